"""A chain every Service adds rules to (KUBE-SERVICES, KUBE-NODEPORTS, ...): fixed rules at
its head (or tail), then each Service's rules in the order of the Service keys.

The chain is a SavedChain: until a packet walks it, a Service's rules go in as text, so a
table of 10,000 Services is built without parsing 10,000 rules nobody has used yet.
"""

from __future__ import annotations

from bisect import bisect_left

from playground.net.netfilter import Rule
from playground.net.saved_chain import SavedChain


class Aggregate:
    def __init__(self, table: str, name: str, head: list[str], tail: list[str]) -> None:
        self.chain = SavedChain(table, name, head + tail)
        self.head = len(head)
        self.tail = list(tail)   # the fixed rules after every Service's (as text)
        self.keys: list[str] = []
        self.parts: dict[str, list[str]] = {}   # each Service's lines
        # where each key's rules start; right for the first `known` keys (Services are
        # mostly added in key order, so keeping this is cheap)
        self.starts: list[int] = []
        self.known = 0

    def offset(self, position: int) -> int:
        starts = self.starts
        del starts[self.known:]
        at = starts[-1] + len(self.parts[self.keys[len(starts) - 1]]) if starts \
            else self.head
        while len(starts) <= position and len(starts) < len(self.keys):
            starts.append(at)
            at += len(self.parts[self.keys[len(starts) - 1]])
        self.known = len(starts)
        return starts[position] if position < len(starts) else at

    def put(self, key: str, lines: list[str]) -> None:
        old = self.parts.get(key, [])
        position = bisect_left(self.keys, key)
        start = self.offset(position)
        self.chain.replace(start, start + len(old), lines)
        if lines:
            if key not in self.parts:
                self.keys.insert(position, key)
            self.parts[key] = lines
        elif key in self.parts:
            del self.parts[key]
            self.keys.pop(position)
        if len(old) != len(lines) or not old or not lines:
            self.known = min(self.known, position + 1 if old and lines else position)

    def render(self, overrides: dict[str, list[Rule]],
               tail: list[Rule] | None = None) -> list[Rule]:
        """The chain's rules with some Services' parts replaced (one node's view), and its
        fixed tail too when given; the other rules are the shared chain's own objects."""
        shared = self.chain.rules
        rules, at = shared[:self.head], self.head
        for key in sorted(set(self.keys) | set(overrides)):
            size = len(self.parts.get(key, ()))
            rules.extend(overrides[key] if key in overrides else shared[at:at + size])
            at += size
        return rules + (shared[at:] if tail is None else tail)
