"""Netfilter hooks as the kernel keeps them: per hook, the registered functions by priority.

Whatever looks at packets in the IP stack registers here with a priority, as modules call
nf_register_net_hooks: iptables' tables, conntrack, NAT, IPVS, and later nftables' base
chains or a policy queue. The walk runs a hook's entries in order until one takes the
packet. Priorities are the kernel's (include/uapi/linux/netfilter_ipv4.h).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PRI_RAW = -300
PRI_CONNTRACK = -200
PRI_MANGLE = -150
PRI_NAT_DST = -100
PRI_FILTER = 0
PRI_SECURITY = 50
PRI_NAT_SRC = 100
PRI_CONNTRACK_CONFIRM = INT_MAX

HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")


class HookEntry(NamedTuple):
    priority: int
    name: str
    # (walk, namespace, flight, hook, in_dev, out_dev) -> None to go on, else the next step
    fn: Callable


class HookTable:
    """One namespace's hooks. A table marked `shared` is the one every new namespace starts
    with; a namespace copies it before registering anything of its own."""

    __slots__ = ("entries", "shared")

    def __init__(self, shared: bool = False) -> None:
        self.entries: dict[str, tuple[HookEntry, ...]] = {hook: () for hook in HOOKS}
        self.shared = shared

    def register(self, hook: str, priority: int, name: str, fn: Callable) -> None:
        """Add an entry; among equal priorities the newest runs first, as in the kernel
        (nf_hook_entries_grow inserts before the first entry of no lower priority)."""
        if hook not in self.entries:
            raise ValueError(f"no netfilter hook named {hook}")
        if any(entry.name == name for entry in self.entries[hook]):
            raise ValueError(f"{name} is already registered at {hook}")
        entries = list(self.entries[hook])
        at = next((i for i, entry in enumerate(entries) if entry.priority >= priority),
                  len(entries))
        entries.insert(at, HookEntry(priority, name, fn))
        self.entries[hook] = tuple(entries)

    def unregister(self, hook: str, name: str) -> None:
        self.entries[hook] = tuple(e for e in self.entries[hook] if e.name != name)

    def copy(self) -> HookTable:
        other = HookTable()
        other.entries = dict(self.entries)
        return other

    def names(self, hook: str) -> list[str]:
        """The entries of a hook in the order they run."""
        return [entry.name for entry in self.entries[hook]]
