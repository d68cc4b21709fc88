"""An in-memory API server: objects with resourceVersions, and watch streams.

Every event put on a watch queue counts as outstanding work until the watcher marks it
done, which is how `settle()` knows that every controller is idle.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class NotFound(KeyError):
    pass


class AlreadyExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # ADDED, MODIFIED, DELETED
    object: Any


class WorkTracker:
    """Counts events handed out but not yet handled."""

    def __init__(self) -> None:
        self.pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def add(self, count: int = 1) -> None:
        self.pending += count
        self._idle.clear()

    def done(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


class Watch:
    def __init__(self, server: ApiServer, kind: str, predicate: Callable[[Any], bool] | None):
        self.server = server
        self.kind = kind
        self.predicate = predicate
        self.queue: asyncio.Queue[Event] = asyncio.Queue()

    def offer(self, event: Event) -> None:
        if self.predicate is None or self.predicate(event.object):
            self.server.tracker.add()
            self.queue.put_nowait(event)

    async def next(self) -> Event:
        return await self.queue.get()

    def done(self) -> None:
        self.server.tracker.done()

    def close(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
            self.server.tracker.done()
        if self in self.server.watches:
            self.server.watches.remove(self)


def _key(obj) -> tuple[str, str, str]:
    return obj.kind, obj.metadata.namespace, obj.metadata.name


class ApiServer:
    def __init__(self, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.clock = clock
        self.objects: dict[tuple[str, str, str], Any] = {}
        self.resource_version = 0
        self.uid_counter = 0
        self.watches: list[Watch] = []
        self.tracker = WorkTracker()

    def _bump(self, obj) -> None:
        self.resource_version += 1
        obj.metadata.resource_version = self.resource_version

    def _notify(self, kind: str, event: Event) -> None:
        for watch in list(self.watches):
            if watch.kind == kind:
                watch.offer(Event(event.type, copy.deepcopy(event.object)))

    def create(self, obj):
        key = _key(obj)
        if key in self.objects:
            where = f"{key[1]}/" if key[1] else ""
            raise AlreadyExists(f'{obj.kind.lower()} "{where}{key[2]}" already exists')
        obj = copy.deepcopy(obj)
        self.uid_counter += 1
        obj.metadata.uid = f"{self.uid_counter:08x}-0000-4000-8000-{self.uid_counter:012x}"
        obj.metadata.created_at = self.clock()
        self._bump(obj)
        self.objects[key] = obj
        self._notify(obj.kind, Event("ADDED", obj))
        return copy.deepcopy(obj)

    def restore(self, obj):
        """Put back an object saved earlier, keeping its uid, age and resourceVersion."""
        key = _key(obj)
        if key in self.objects:
            raise AlreadyExists(f'{obj.kind.lower()} "{key[1]}/{key[2]}" already exists')
        obj = copy.deepcopy(obj)
        self.objects[key] = obj
        self._notify(obj.kind, Event("ADDED", obj))
        return copy.deepcopy(obj)

    def update(self, obj):
        key = _key(obj)
        if key not in self.objects:
            raise NotFound(f"{obj.kind.lower()} {key[1]}/{key[2]} not found")
        obj = copy.deepcopy(obj)
        self._bump(obj)
        self.objects[key] = obj
        self._notify(obj.kind, Event("MODIFIED", obj))
        return copy.deepcopy(obj)

    def delete(self, kind: str, namespace: str, name: str):
        obj = self.objects.pop((kind, namespace, name), None)
        if obj is None:
            where = f"{namespace}/" if namespace else ""
            raise NotFound(f'{kind.lower()} "{where}{name}" not found')
        self._bump(obj)
        self._notify(kind, Event("DELETED", obj))
        return obj

    def get(self, kind: str, namespace: str, name: str):
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            where = f"{namespace}/" if namespace else ""
            raise NotFound(f'{kind.lower()} "{where}{name}" not found')
        return copy.deepcopy(obj)

    def peek(self, kind: str, namespace: str, name: str):
        """The stored object itself, for readers that promise not to mutate it."""
        return self.objects.get((kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list:
        found = [obj for (k, ns, _), obj in self.objects.items()
                 if k == kind and (namespace is None or ns == namespace)]
        return sorted(found, key=lambda o: (o.metadata.namespace, o.metadata.name))

    def count(self, kind: str) -> int:
        return sum(1 for k, _ns, _name in self.objects if k == kind)

    def watch(self, kind: str, predicate: Callable[[Any], bool] | None = None) -> Watch:
        """A watch that first replays the current objects as ADDED, like list-then-watch."""
        watch = Watch(self, kind, predicate)
        self.watches.append(watch)
        for obj in self.list(kind):
            watch.offer(Event("ADDED", copy.deepcopy(obj)))
        return watch
