"""NFQUEUE: userspace programs bound to a namespace's queue numbers (nfnetlink_queue).

A queued packet waits for its program's verdict; with no program bound the kernel drops
it, unless the queue statement says `bypass` (NFQA_CFG_F_FAIL_OPEN's statement-side
twin), which accepts it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

QUEUE_VERDICTS = ("accept", "drop")   # NF_ACCEPT and NF_DROP: what a program may answer


@dataclass(frozen=True, slots=True)
class QueueVerdict:
    verdict: str      # "accept" or "drop"
    reason: str       # one line the trace shows: why the program answered so
    program: str      # who answered, e.g. "kube-network-policies"


class QueueProgram(Protocol):
    """What a userspace queue listener does with a queued packet."""

    name: str

    def verdict(self, ns_name: str, packet, hook: str, in_dev: str | None,
                out_dev: str | None) -> QueueVerdict: ...


def queue_number(statement, packet) -> int:
    """The queue a packet goes to: a range spreads flows by a hash of the addresses
    (nfqueue_hash), here a deterministic one, so one flow always meets one queue."""
    if statement.low == statement.high:
        return statement.low
    spread = statement.high - statement.low + 1
    return statement.low + (int(packet.src) ^ int(packet.dst)) % spread
