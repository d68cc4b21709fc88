"""BPF maps: hash and LRU hash tables with a name and a size, as the kernel keeps them."""

from __future__ import annotations

from typing import Any

MAP_TYPES = ("hash", "lru_hash")


class MapFull(Exception):
    """A hash map refuses a new key once max_entries are in it (E2BIG)."""


class BpfMap:
    def __init__(self, name: str, map_type: str, max_entries: int) -> None:
        if map_type not in MAP_TYPES:
            raise ValueError(f"map {name}: type {map_type!r} is not one of {MAP_TYPES}")
        self.name, self.type, self.max_entries = name, map_type, max_entries
        self.entries: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, key):
        value = self.entries.get(key)
        if value is not None and self.type == "lru_hash":  # a hit makes the key recent
            self.entries[key] = self.entries.pop(key)
        return value

    def update(self, key, value) -> None:
        if key not in self.entries and len(self.entries) >= self.max_entries:
            if self.type != "lru_hash":
                raise MapFull(f"{self.name}: map is full ({self.max_entries} entries)")
            del self.entries[next(iter(self.entries))]  # the least recently used goes
        self.entries.pop(key, None)
        self.entries[key] = value

    def delete(self, key) -> bool:
        return self.entries.pop(key, None) is not None

    def items(self) -> list[tuple[Any, Any]]:
        return list(self.entries.items())
