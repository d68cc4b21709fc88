"""Work due at a time on the lab clock (a graceful deletion's end, a pod becoming available):
settle() advances the clock and runs what has come due, in order of time, then of arrival."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class LabTimers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def at(self, when: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._order), callback))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def fire(self, now: float) -> int:
        """Run every callback due by `now`; how many ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= now:
            _when, _order, callback = heapq.heappop(self._heap)
            callback()
            ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()
