"""The loop every controller runs: take a watch event, handle it, mark it done."""

from __future__ import annotations

import asyncio
import logging

from playground.cluster.api import Event, Watch

log = logging.getLogger("playground.controllers")


def controlled_by(kind: str):
    """A watch predicate: pods whose controller is of `kind` (the only pods whose events the
    controller's handler acts on; the others need not wake it)."""
    def predicate(obj) -> bool:
        ref = obj.metadata.controller_ref()
        return ref is not None and ref.kind == kind
    return predicate


class Controller:
    name = "controller"

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task] = []
        self.watches: list[Watch] = []
        self.handlers: list = []
        self.queued: dict = {}   # keys to sync, in the order first asked (an ordered set)

    def burst_goes_on(self, waiting: int) -> bool:
        """Whether a handler may leave `waiting` keys of work to the last event of a burst
        (as client-go's work queue folds repeated keys): yes while an event still waits on
        a watch, unless a screen draws progress (pace) and that many keys are waiting."""
        if all(watch.queue.empty() for watch in self.watches):
            return False
        pace = self.watches[0].server.pace
        return not pace or waiting < pace

    def enqueue(self, key: tuple) -> None:
        """client-go's work queue: a key already waiting is not added again, and the keys
        are synced (self.sync(*key)) once no event waits on this controller's watches, so
        a burst of events about one object costs one sync, and settled still means synced."""
        self.queued[key] = None

    def _sync_queued(self) -> None:
        """After each event: the queued keys, in the order first queued, unless the burst
        goes on."""
        if self.burst_goes_on(len(self.queued)):
            return
        while self.queued:
            key = next(iter(self.queued))
            del self.queued[key]
            self.sync(*key)

    def follow(self, watch: Watch, handler) -> None:
        self.watches.append(watch)
        self.handlers.append(handler)
        self.tasks.append(asyncio.create_task(self._loop(watch, handler)))

    async def _loop(self, watch: Watch, handler) -> None:
        handled = 0
        while True:
            self._handle(watch, handler, await watch.next())
            handled += 1
            pace = watch.server.pace
            if pace and handled % pace == 0:
                await asyncio.sleep(0)  # a queue of thousands would freeze a UI drawing a bar

    def drain(self) -> None:
        """Handle every event already queued, now: a node built on demand must be whole
        before the packet that needed it goes on."""
        while any([self._drain(watch, handler)   # every watch in turn, then again while
                   for watch, handler in zip(self.watches, self.handlers, strict=True)]):
            pass                                   # a handler queued more on one of them

    def drain_first(self) -> None:
        """Handle the events queued on the first watch only (a kubelet's own Node)."""
        self._drain(self.watches[0], self.handlers[0])

    def _drain(self, watch: Watch, handler) -> bool:
        """Handle what is queued on one watch; whether there was anything."""
        found = not watch.queue.empty()
        while not watch.queue.empty():
            self._handle(watch, handler, watch.queue.get_nowait())
        return found

    def _handle(self, watch: Watch, handler, event: Event) -> None:
        try:
            handler(event)
            if self.queued:
                self._sync_queued()
        except Exception as error:  # a controller keeps running, as in a real cluster
            log.debug("%s failed on %s", self.name, event.type, exc_info=True)
            watch.server.events.warn(self.name, involved(event.object), "FailedSync",
                                     f"{event.type} {str(error) or type(error).__name__}")
        finally:
            watch.done()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        for watch in self.watches:
            watch.close()


def involved(obj) -> str:
    """An object as kubectl names it in an event: kind/name, with its namespace if it has one."""
    meta = obj.metadata
    return f"{obj.kind.lower()}/{meta.namespace + '/' if meta.namespace else ''}{meta.name}"
