"""Packet Tracer's simulation controls over the packets sent so far: step, back, play, reset."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.legs import Leg
from playground.net.trace import Hop, Trace

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1)  # seconds per hop
KEPT_RUNS = 20  # older packets leave the timeline


@dataclass(slots=True)
class Decision(Trace):
    """What chose where a leg goes (an Ingress rule), as a hop of its own where it was
    chosen; a pause in the walk, not a packet of the journal."""


def decision(leg: Leg, before: Trace) -> Decision:
    """At the proxy the packet before was delivered to: which rule matched, which backend.
    The request is not changed by choosing, so the hop's packet is the one that arrived."""
    where, packet = before.delivered_to.namespace, before.delivered_packet
    # numbered 0: it comes before hop 1 of the connection the proxy then opens
    if leg.role == "answer":   # the proxy answers itself (a gateway's 404 or redirect)
        said = f"{leg.why} → {leg.title.rstrip(':')}"
    elif leg.service:
        said = f"{leg.why} → backend {leg.service}"
    else:   # a load balancer's proxy: its title names where it goes
        said = f"{leg.title} {leg.why}"
    hop = Hop(0, where, leg.proxy, said, packet, packet)
    return Decision(where, packet, [hop], "delivered", leg.why)


def with_decisions(legs: list[Leg]) -> list[Trace]:
    """The legs' traces, each chosen leg led by the hop that chose it."""
    traces: list[Trace] = []
    for leg in legs:
        if leg.role in ("proxied", "answer") and traces:
            traces.append(decision(leg, traces[-1]))
        traces.append(leg.trace)
    return traces


@dataclass
class Run:
    """One send: the command that made it and its legs (packet, reply, proxied leg)."""

    number: int
    label: str
    traces: list[Trace]

    @property
    def hops(self) -> list[Hop]:
        return [hop for trace in self.traces for hop in trace.hops]

    @property
    def verdict(self) -> str:
        return self.traces[-1].verdict if self.traces else ""


@dataclass
class Player:
    runs: list[Run] = field(default_factory=list)
    run: int = -1  # which run plays
    index: int = -1
    playing: bool = False
    speed_index: int = 2
    sent: int = 0

    @property
    def traces(self) -> list[Trace]:
        return self.runs[self.run].traces if self.runs else []

    @property
    def hops(self) -> list[Hop]:
        return self.runs[self.run].hops if self.runs else []

    @property
    def current(self) -> Hop | None:
        hops = self.hops
        return hops[self.index] if 0 <= self.index < len(hops) else None

    @property
    def seconds_per_hop(self) -> float:
        return SPEEDS[self.speed_index]

    def load(self, traces: list[Trace], label: str = "", legs: list[Leg] | None = None) -> None:
        """A new packet: it becomes the one that plays, from its first hop. With `legs`, a
        leg that something chose is led by a hop of that choice."""
        self.sent += 1
        shown = with_decisions(legs) if legs else list(traces)
        self.runs = [*self.runs, Run(self.sent, label, shown)][-KEPT_RUNS:]
        self.run, self.index, self.playing = len(self.runs) - 1, 0, False

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

    def jump(self, index: int, run: int | None = None) -> None:
        if run is not None and 0 <= run < len(self.runs):
            self.run = run
        if 0 <= index < len(self.hops):
            self.index = index

    def reset(self) -> None:
        self.index, self.playing = (0 if self.hops else -1), False

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
