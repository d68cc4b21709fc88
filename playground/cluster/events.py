"""The lab's events: one line for each thing a controller or agent failed to do, the way
`kubectl get events` lists Warnings, so a failure is told and nothing stops serving (and
the Normal ones a provider records, e.g. which address it gave and which node announces)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

LIMIT = 1000   # the newest are kept, as the API server lets old events expire


@dataclass(frozen=True, slots=True)
class LabEvent:
    time: float        # lab seconds
    source: str        # the controller or agent, e.g. cloud-controller or kube-proxy/kind-worker
    involved: str      # the object it was handling, e.g. node/b
    reason: str
    message: str
    type: str = "Warning"   # or Normal: what a controller did that a user should see

    def line(self) -> str:
        return f"{self.type} {self.reason} {self.involved} {self.source}: {self.message}"


class EventLog:
    def __init__(self, clock=lambda: 0.0) -> None:
        self.clock = clock
        self.entries: deque[LabEvent] = deque(maxlen=LIMIT)

    def warn(self, source: str, involved: str, reason: str, message: str,
             type: str = "Warning") -> LabEvent:
        event = LabEvent(self.clock(), source, involved, reason, " ".join(message.split()),
                         type)
        self.entries.append(event)
        return event

    def normal(self, source: str, involved: str, reason: str, message: str) -> LabEvent:
        return self.warn(source, involved, reason, message, "Normal")

    def about(self, involved: str) -> list[LabEvent]:
        """The events of one object (kubectl describe's Events), oldest first."""
        return [event for event in self.entries if event.involved == involved]

    def lines(self) -> list[str]:
        return [event.line() for event in self.entries]

    def __len__(self) -> int:
        return len(self.entries)
