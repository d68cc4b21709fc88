"""An in-memory API server: objects with resourceVersions, and watch streams.

Every event put on a watch queue counts as outstanding work until the watcher marks it
done, which is how `settle()` knows that every controller is idle.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from playground.cluster.events import EventLog


class NotFound(KeyError):
    def __str__(self) -> str:  # the message as written: KeyError's own str() quotes it
        return str(self.args[0]) if self.args else ""


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
    def __init__(self, server: ApiServer, kind: str, predicate: Callable[[Any], bool] | None,
                 node: str | None = None):
        self.server = server
        self.kind = kind
        self.predicate = predicate
        self.node = node   # a field selector on the node: only that node's objects
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
        self.server._unwatch(self)


_ATOMS = frozenset({str, int, float, bool, type(None), bytes, IPv4Address, IPv4Network})
_COPIERS: dict[type, Callable[[Any], Any]] = {}


def clone(value):
    """A deep copy of an API object, several times faster than copy.deepcopy: the objects
    are trees of dataclasses, lists, dicts and immutable values."""
    copier = _COPIERS.get(value.__class__)
    if copier is None:
        copier = _copier_for(value.__class__)
    return copier(value)


def _copy_parts(value, parts: tuple[str, ...], shallow: tuple[str, ...] = ()):
    """A shallow copy of an API object with its metadata and the named parts deep-copied
    (and the `shallow` ones copied one level)."""
    copied = _one_level(value)
    fields = copied.__dict__
    for name in ("metadata", *parts):
        fields[name] = clone(fields[name])
    for name in shallow:
        fields[name] = _one_level(fields[name])
    return copied


def _one_level(value):
    copied = object.__new__(value.__class__)
    copied.__dict__.update(value.__dict__)
    return copied


def _same(value):
    return value


def _copy_list(value: list) -> list:
    return [x if x.__class__ in _ATOMS else clone(x) for x in value]


def _copy_dict(value: dict) -> dict:
    for item in value.values():
        if item.__class__ not in _ATOMS:
            return {k: x if x.__class__ in _ATOMS else clone(x) for k, x in value.items()}
    return value.copy()   # labels and annotations: strings only


def _copy_tuple(value: tuple) -> tuple:
    return tuple([x if x.__class__ in _ATOMS else clone(x) for x in value])


def _copier_for(cls: type) -> Callable[[Any], Any]:
    """A copier written for one dataclass, its fields named in the code (no loop over the
    instance's __dict__, no call for an immutable field)."""
    names = list(getattr(cls, "__dataclass_fields__", ()))
    if not names or "__slots__" in cls.__dict__ or cls.__new__ is not object.__new__:
        copier = copy.deepcopy
    else:
        fields = ", ".join(f"{name!r}: x if (x := d[{name!r}]).__class__ in atoms else clone(x)"
                           for name in names)
        scope = {"atoms": _ATOMS, "clone": clone, "new": object.__new__, "cls": cls,
                 "generic": copy.deepcopy}
        exec(f"def copier(value):\n"
             f"    d = value.__dict__\n"
             f"    if len(d) != {len(names)}:\n"   # an attribute beyond the fields
             f"        return generic(value)\n"
             f"    made = new(cls)\n"
             f"    made.__dict__.update({{{fields}}})\n"
             f"    return made\n", scope)
        copier = scope["copier"]
    _COPIERS[cls] = copier
    return copier


_COPIERS.update({atom: _same for atom in _ATOMS})
_COPIERS.update({list: _copy_list, dict: _copy_dict, tuple: _copy_tuple})


def _key(obj) -> tuple[str, str, str]:
    return obj.kind, obj.metadata.namespace, obj.metadata.name


def creation_order(obj) -> tuple:
    """The order objects were made in (a saved lab's, as it was when saved)."""
    meta = obj.metadata
    return meta.created_at, meta.uid, meta.namespace, meta.name


def _node_of(obj) -> str | None:
    """The node a field-selected watch follows: a Node's name, a Pod's spec.nodeName."""
    if obj.kind == "Node":
        return obj.metadata.name
    return getattr(obj.spec, "node_name", None) if obj.kind == "Pod" else None


def _labels_of(obj) -> list:
    return [(obj.metadata.namespace, k, v) for k, v in obj.metadata.labels.items()]


def _owner_of(obj) -> list:
    """(namespace, kind, name) of the object's controller (metadata.ownerReferences)."""
    return [(obj.metadata.namespace, ref.kind, ref.name)
            for ref in obj.metadata.owner_references if ref.controller]


# Indexes the controllers look objects up by (as client-go's indexers): kind -> name -> keys
INDEXES: dict[str, dict[str, Callable[[Any], list]]] = {
    "Pod": {"node": lambda p: [p.spec.node_name], "label": _labels_of, "owner": _owner_of,
            "terminating": lambda p: [True] if p.metadata.deletion_timestamp is not None
            else []},
    "ReplicaSet": {"owner": _owner_of},
    "EndpointSlice": {"service": lambda s: [s.service]},
    "Service": {"selector": lambda s: [(s.metadata.namespace, k, v)
                                       for k, v in sorted(s.spec.selector.items())[:1]],
                "cluster_ip": lambda s: [s.spec.cluster_ip] if s.spec.cluster_ip not in (
                    None, "", "None") else [],
                "node_port": lambda s: [p.node_port for p in s.spec.ports if p.node_port]
                + ([s.spec.health_check_node_port] if s.spec.health_check_node_port else [])},
}


class ApiServer:
    def __init__(self, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.clock = clock
        self.objects: dict[tuple[str, str, str], Any] = {}
        self.by_kind: dict[str, dict[tuple[str, str], Any]] = {}
        self._sorted: dict[str, list] = {}   # list() of a kind, until it changes
        self.indexes: dict[tuple[str, str], dict[Any, set]] = {}
        self.index_listeners: dict[tuple[str, str], list[Callable[[Any], None]]] = {}
        self._plans: dict[str, list[tuple[dict, Callable, list]]] = {}
        self.resource_version = 0
        self.uid_counter = 0
        self.watches: list[Watch] = []
        self._watching: dict[str, list[Watch]] = {}
        self._by_node: dict[tuple[str, str], list[Watch]] = {}
        self.tracker = WorkTracker()
        self.pace = 0  # > 0: controllers let the event loop run every this many events
        self.events = EventLog(clock)   # what controllers failed to do, one line each

    def _store(self, key: tuple[str, str, str], obj) -> None:
        kind, short = key[0], key[1:]   # a load stores 175,000 objects: few lookups each
        old = self.objects.get(key)
        if old is not None:
            self._unindex(key, old)
        self.objects[key] = obj
        store = self.by_kind.get(kind)
        if store is None:
            store = self.by_kind[kind] = {}
        store[short] = obj
        self._sorted.pop(kind, None)
        for index, values, listeners in self._index_plan(kind):
            for value in values(obj):
                keys = index.get(value)
                if keys is None:
                    index[value] = {short}
                else:
                    keys.add(short)
                for listener in listeners:
                    listener(value)

    def _drop(self, key: tuple[str, str, str]):
        obj = self.objects.pop(key, None)
        if obj is not None:
            self._unindex(key, obj)
            del self.by_kind[key[0]][key[1:]]
            self._sorted.pop(key[0], None)
        return obj

    def _index_plan(self, kind: str) -> list[tuple[dict, Callable, list]]:
        """A kind's indexes with what fills them and who hears of a change, looked up once
        (a load stores 150,000 pods); the lists are the ones listeners are added to."""
        plan = self._plans.get(kind)
        if plan is None:
            plan = self._plans[kind] = [
                (self.indexes.setdefault((kind, name), {}), values,
                 self.index_listeners.setdefault((kind, name), []))
                for name, values in INDEXES.get(kind, {}).items()]
        return plan

    def _unindex(self, key: tuple[str, str, str], obj) -> None:
        short = key[1:]
        for index, values, listeners in self._index_plan(key[0]):
            for value in values(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(short)
                    if not keys:
                        del index[value]
                for listener in listeners:
                    listener(value)

    def indexed(self, kind: str, index: str, value) -> list:
        """The objects of a kind whose index holds `value`, sorted like list()."""
        keys = self.indexes.get((kind, index), {}).get(value, ())
        store = self.by_kind.get(kind, {})
        return [store[k] for k in sorted(keys)]

    def indexed_count(self, kind: str, index: str, value) -> int:
        return len(self.indexes.get((kind, index), {}).get(value, ()))

    def _bump(self, obj) -> None:
        self.resource_version += 1
        obj.metadata.resource_version = self.resource_version

    def _notify(self, kind: str, event: Event) -> None:
        """Each watcher gets the event with the stored object itself: handlers only read it,
        and the store never changes an object in place (an update stores a new one)."""
        watches = list(self._watching.get(kind, ()))
        node = _node_of(event.object)
        if node is not None:
            watches += self._by_node.get((kind, node), ())
        if not watches:
            return
        for watch in watches:
            watch.offer(event)

    def _unwatch(self, watch: Watch) -> None:
        group = self._watching.get(watch.kind, []) if watch.node is None else \
            self._by_node.get((watch.kind, watch.node), [])
        if watch in group:
            group.remove(watch)

    def create(self, obj, handed_over: bool = False):
        """Store a new object and return a copy of it; `handed_over`: the caller made it
        for the store and keeps no hold on it (a controller's), so no copy either way."""
        key = _key(obj)
        if key in self.objects:
            where = f"{key[1]}/" if key[1] else ""
            raise AlreadyExists(f'{obj.kind.lower()} "{where}{key[2]}" already exists')
        if not handed_over:
            obj = clone(obj)
        self.uid_counter += 1
        obj.metadata.uid = f"{self.uid_counter:08x}-0000-4000-8000-{self.uid_counter:012x}"
        obj.metadata.created_at = self.clock()
        self._bump(obj)
        self._store(key, obj)
        self._notify(obj.kind, Event("ADDED", obj))
        return None if handed_over else clone(obj)

    def restore(self, obj) -> None:
        """Put back an object saved earlier, keeping its uid, age and resourceVersion; the
        object is the store's from now on (a loaded lab's objects are fresh from the file)."""
        key = _key(obj)
        if key in self.objects:
            raise AlreadyExists(f'{obj.kind.lower()} "{key[1]}/{key[2]}" already exists')
        self._store(key, obj)
        self._notify(obj.kind, Event("ADDED", obj))

    def update(self, obj):
        key = _key(obj)
        if key not in self.objects:
            raise NotFound(f"{obj.kind.lower()} {key[1]}/{key[2]} not found")
        obj = clone(obj)
        self._bump(obj)
        self._store(key, obj)
        self._notify(obj.kind, Event("MODIFIED", obj))
        return clone(obj)

    def change(self, kind: str, namespace: str, name: str, edit: Callable[[Any], None],
               only: tuple[str, ...] = (), shallow: tuple[str, ...] = ()) -> None:
        """get, edit, update in one: `edit` changes a copy of the stored object, which is
        then stored; one copy instead of the three get and update make. `only` names the
        parts the edit touches (say "status"): just they and the metadata are copied, the
        rest is shared with the stored version, which nothing changes in place; `shallow`
        names parts whose own fields only are set (their lists and objects are shared)."""
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            where = f"{namespace}/" if namespace else ""
            raise NotFound(f'{kind.lower()} "{where}{name}" not found')
        obj = _copy_parts(obj, only, shallow) if only or shallow else clone(obj)
        edit(obj)
        if _key(obj) != (kind, namespace, name):
            raise ValueError(f"{kind.lower()} {namespace}/{name}: an edit cannot rename it")
        self._bump(obj)
        self._store((kind, namespace, name), obj)
        self._notify(kind, Event("MODIFIED", obj))

    def delete(self, kind: str, namespace: str, name: str):
        obj = self._drop((kind, namespace, name))
        if obj is None:
            where = f"{namespace}/" if namespace else ""
            raise NotFound(f'{kind.lower()} "{where}{name}" not found')
        obj = clone(obj)   # watchers may still hold the stored version
        self._bump(obj)
        self._notify(kind, Event("DELETED", obj))
        return clone(obj)

    def get(self, kind: str, namespace: str, name: str):
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            where = f"{namespace}/" if namespace else ""
            raise NotFound(f'{kind.lower()} "{where}{name}" not found')
        return clone(obj)

    def peek(self, kind: str, namespace: str, name: str):
        """The stored object itself, for readers that promise not to mutate it."""
        return self.objects.get((kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list:
        ordered = self.ordered(kind)
        if namespace is None:
            return list(ordered)
        return [obj for obj in ordered if obj.metadata.namespace == namespace]

    def ordered(self, kind: str) -> list:
        """The stored objects of a kind in list() order, the store's own list: for a caller
        that only reads it (a check of 5,000 nodes per Deployment need not copy them)."""
        ordered = self._sorted.get(kind)
        if ordered is None:
            store = self.by_kind.get(kind, {})
            ordered = self._sorted[kind] = [store[k] for k in sorted(store)]
        return ordered

    def count(self, kind: str) -> int:
        return len(self.by_kind.get(kind, ()))

    def watch(self, kind: str, predicate: Callable[[Any], bool] | None = None,
              node: str | None = None, replay: bool = True) -> Watch:
        """A watch that first replays the current objects as ADDED, like list-then-watch, in
        the order they were made (so an agent started late does what it would have done all
        along); `node` selects one node's objects (fieldSelector spec.nodeName or metadata.name).
        Without `replay`, only what changes from now on (the caller listed what it needs)."""
        watch = Watch(self, kind, predicate, node)
        self.watches.append(watch)
        if node is None:
            self._watching.setdefault(kind, []).append(watch)
            # only what the watch takes is sorted (a 150,000-pod lab's watch of the few
            # terminating pods sorted them all)
            current = sorted(self.list(kind) if predicate is None else
                             [o for o in self.list(kind) if predicate(o)],
                             key=creation_order) if replay else []
        else:
            self._by_node.setdefault((kind, node), []).append(watch)
            if kind == "Node":
                found = self.peek("Node", "", node)
                current = [found] if found is not None else []
            else:
                current = sorted(self.indexed(kind, "node", node), key=creation_order)
            current = current if replay else []
        for obj in current:
            watch.offer(Event("ADDED", obj))
        return watch
