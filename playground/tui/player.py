"""Packet Tracer's simulation controls over a list of traces: step, back, play, reset."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.net.trace import Hop, Trace

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1)  # seconds per hop


@dataclass
class Player:
    traces: list[Trace] = field(default_factory=list)
    index: int = -1
    playing: bool = False
    speed_index: int = 2

    @property
    def hops(self) -> list[tuple[int, Hop]]:
        """Every hop of every leg, with the number of its leg."""
        return [(leg, hop) for leg, trace in enumerate(self.traces) for hop in trace.hops]

    @property
    def current(self) -> Hop | None:
        hops = self.hops
        return hops[self.index][1] if 0 <= self.index < len(hops) else None

    @property
    def seconds_per_hop(self) -> float:
        return SPEEDS[self.speed_index]

    def load(self, traces: list[Trace]) -> None:
        self.traces, self.index, self.playing = list(traces), 0, False

    def step(self) -> bool:
        """Forward one hop; False at the end (and playing stops there)."""
        if self.index + 1 < len(self.hops):
            self.index += 1
            return True
        self.playing = False
        return False

    def back(self) -> bool:
        if self.index > 0:
            self.index -= 1
            return True
        return False

    def jump(self, index: int) -> None:
        if 0 <= index < len(self.hops):
            self.index = index

    def reset(self) -> None:
        self.index, self.playing = (0 if self.hops else -1), False

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
