"""The journal of a lab: the packets a learner sent and the node tools they ran.

API objects are the desired state and a saved lab keeps them; what the dataplane learned
from traffic (conntrack entries, rule counters, ARP and bridge tables) is kept as the
commands that taught it, with the lab clock and random state each one ran at, so that a
loaded lab runs them again and ends up in the same state, byte for byte.
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass, field

from playground.net.trace import Trace


@dataclass
class Action:
    line: str
    selected: str | None = None  # the node or pod the node tools acted on
    clock: float = 0.0
    rng: tuple | None = None  # the random state before it, if something drew since the last one
    # the random state before it, always: a comparison sends the same packet again from it
    start: tuple | None = field(default=None, compare=False, repr=False)
    traces: list[Trace] = field(default_factory=list, compare=False, repr=False)
    legs: list = field(default_factory=list, compare=False, repr=False)  # with what chose each

    @property
    def words(self) -> list[str]:
        return shlex.split(self.line)


class Journal:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self._rng_after_last: tuple | None = None

    def begin(self, rng: random.Random, clock: float) -> Action:
        """Note the clock and, when it moved on without us, the random state."""
        state = rng.getstate()
        return Action("", clock=clock, rng=None if state == self._rng_after_last else state,
                      start=state)

    def commit(self, action: Action, line: str, selected: str | None, rng: random.Random,
               traces: list[Trace], legs: list | None = None) -> None:
        action.line, action.selected, action.traces = line, selected, traces
        action.legs = list(legs or [])
        self.actions.append(action)
        self._rng_after_last = rng.getstate()

    def traces(self) -> list[Trace]:
        return [trace for action in self.actions for trace in action.traces]
