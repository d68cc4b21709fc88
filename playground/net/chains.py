"""A table's chains as one mapping over two layers: the namespace's own chains and a layer
of chains shared with other namespaces.

kube-proxy writes the same service chains on every node; holding them once and letting each
node's table see them is how 5,000 nodes fit in memory. A node that changes a shared chain
by hand gets its own copy first (copy on write), so no other node sees the change, and the
copy lasts until the owner of the shared layer rewrites that chain, as kube-proxy would.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class SharedChains:
    """User chains that several tables show; `version` moves on every change."""

    def __init__(self) -> None:
        self.chains: dict[str, Any] = {}
        self.version = 0
        self._copies: dict[str, set[Chains]] = {}   # who holds its own copy of a chain
        self._sorted: tuple[int, list[str]] | None = None

    def sorted_names(self) -> list[str]:
        """The chain names in order, as iptables-save lists user chains."""
        if self._sorted is None or self._sorted[0] != self.version:
            self._sorted = (self.version, sorted(self.chains))
        return self._sorted[1]

    def set(self, name: str, chain) -> None:
        chain.shared = True
        self.chains[name] = chain
        self.changed(name)

    def remove(self, name: str) -> None:
        if self.chains.pop(name, None) is not None:
            self.changed(name)

    def changed(self, name: str) -> None:
        """The chain was rewritten: hand-made copies of it give way to the new rules."""
        self.version += 1
        for view in self._copies.pop(name, ()):
            if view.own.get(name) is not None and not view.own[name].shared:
                del view.own[name]
            view.hidden.discard(name)
            view.version += 1


class Chains(MutableMapping):
    """Own chains first (built-ins and user chains, in creation order), then the shared ones
    not shadowed or deleted here."""

    __slots__ = ("own", "shared", "hidden", "version")
    __hash__ = object.__hash__   # a view is one table's, never equal to another

    def __eq__(self, other: object) -> bool:
        return self is other

    def __init__(self, own: dict | None = None, shared: SharedChains | None = None) -> None:
        self.own: dict[str, Any] = own if own is not None else {}
        self.shared = shared
        self.hidden: set[str] = set()   # shared chains deleted in this table
        self.version = 0

    @property
    def stamp(self) -> tuple[int, int]:
        """Changes whenever what this mapping shows may have changed."""
        return self.version, self.shared.version if self.shared is not None else 0

    def __getitem__(self, name: str):
        chain = self.own.get(name)
        if chain is not None:
            return chain
        if self.shared is not None and name not in self.hidden:
            return self.shared.chains[name]
        raise KeyError(name)

    def get(self, name: str, default=None):
        chain = self.own.get(name)
        if chain is not None:
            return chain
        if self.shared is not None and name not in self.hidden:
            return self.shared.chains.get(name, default)
        return default

    def __contains__(self, name: object) -> bool:
        return self.get(name) is not None

    def __setitem__(self, name: str, chain) -> None:
        self.own[name] = chain
        self.hidden.discard(name)
        self.version += 1

    def __delitem__(self, name: str) -> None:
        found = self.own.pop(name, None) is not None
        if self.shared is not None and name in self.shared.chains and name not in self.hidden:
            self.hidden.add(name)
            found = True
        if not found:
            raise KeyError(name)
        self.version += 1

    def __iter__(self) -> Iterator[str]:
        yield from self.own
        if self.shared is not None:
            own, hidden = self.own, self.hidden
            for name in self.shared.chains:
                if name not in own and name not in hidden:
                    yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def writable(self, name: str):
        """The chain to change here: a shared one is copied into this table first."""
        chain = self[name]
        if not chain.shared:
            return chain
        copy = chain.clone()
        copy.shared = False
        self.own[name] = copy
        self.version += 1
        self.shared._copies.setdefault(name, set()).add(self)
        return copy

    def layered(self, own: dict) -> Chains:
        """The same shared layer under other own chains (a copy of the table)."""
        other = Chains(own, self.shared)
        other.hidden = set(self.hidden)
        return other
