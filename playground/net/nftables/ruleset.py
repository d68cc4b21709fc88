"""What nf_tables holds in one namespace: tables of chains, rules and sets, with handles.

A transaction works on copies of the tables it changes and replaces the ruleset only
when every command succeeded: nft -f is all or nothing, as the kernel's batch is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from playground.net.nftables.sets import NftSet
from playground.net.nftables.stmt import Rule

FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
MODELLED_FAMILIES = ("ip", "ip6", "inet")
HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
CHAIN_TYPES = {"filter": HOOKS, "nat": ("prerouting", "input", "output", "postrouting"),
               "route": ("output",)}
# the symbolic priorities and the hooks nft accepts each at (ip, ip6 and inet)
PRIORITIES = {"raw": (-300, HOOKS), "mangle": (-150, HOOKS),
              "dstnat": (-100, ("prerouting",)), "filter": (0, HOOKS),
              "security": (50, HOOKS), "srcnat": (100, ("postrouting",))}


def priority_text(value: int, hook: str) -> str:
    """`dstnat`, `filter - 10`, `-110`: how nft lists a base chain's priority."""
    for name, (base, hooks) in PRIORITIES.items():
        if value == base and hook in hooks:
            return name
    for name, (base, hooks) in PRIORITIES.items():
        if hook in hooks and abs(value - base) <= 10 and value != base:
            sign = "+" if value > base else "-"
            return f"{name} {sign} {abs(value - base)}"
    return str(value)


@dataclass(frozen=True, slots=True)
class BaseSpec:
    type: str
    hook: str
    priority: int
    policy: str = "accept"


@dataclass(slots=True)
class Chain:
    name: str
    handle: int
    base: BaseSpec | None = None
    rules: list[Rule] = field(default_factory=list)
    comment: str | None = None

    def clone(self) -> Chain:
        return replace(self, rules=list(self.rules))


@dataclass(slots=True)
class Table:
    family: str
    name: str
    handle: int
    comment: str | None = None
    flags: tuple[str, ...] = ()
    chains: dict[str, Chain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)   # named sets and maps
    next_handle: int = 1
    _copied: set = field(default_factory=set, repr=False)
    # too_deep's jumps per chain object, shared by a table and its transactions' copies
    _edges: dict = field(default_factory=dict, repr=False, compare=False)

    def new_handle(self) -> int:
        handle = self.next_handle
        self.next_handle += 1
        return handle

    def clone(self) -> Table:
        return replace(self, chains=dict(self.chains), sets=dict(self.sets), _copied=set())

    def writable_chain(self, name: str) -> Chain:
        """The chain, copied into this (transaction's) table the first time it changes."""
        key = ("chain", name)
        if key not in self._copied:
            self.chains[name] = self.chains[name].clone()
            self._copied.add(key)
        return self.chains[name]

    def writable_set(self, name: str) -> NftSet:
        key = ("set", name)
        if key not in self._copied:
            self.sets[name] = self.sets[name].clone()
            self._copied.add(key)
        return self.sets[name]

    def references(self, chain: str) -> int:
        """Rules and verdict-map elements that jump or go to `chain`."""
        count = 0
        for other in self.chains.values():
            for rule in other.rules:
                count += sum(1 for target in rule_targets(rule) if target == chain)
        for named in self.sets.values():
            if named.is_map and named.data_type.name == "verdict":
                count += sum(1 for e in named.elements.values()
                             if getattr(e.data, "target", None) == chain)
        return count


def rule_targets(rule: Rule) -> list[str]:
    """The chains a rule may jump or go to, from its verdicts and anonymous maps (a rule
    never changes once added, so this is worked out once)."""
    if rule._targets is None:
        rule._targets = _targets(rule)
    return rule._targets


def _targets(rule: Rule) -> list[str]:
    targets = []
    for statement in rule.statements:
        verdict = getattr(statement, "verdict", None)
        if verdict is not None and verdict.target:
            targets.append(verdict.target)
        target = getattr(statement, "target", None)
        if isinstance(target, NftSet) and target.is_map:
            targets += [e.data.target for e in target.elements.values() if e.data.target]
    return targets


def rule_sets(rule: Rule) -> list[str]:
    """The named sets a rule refers to."""
    names = []
    for statement in rule.statements:
        for part in (getattr(statement, "right", None), getattr(statement, "target", None)):
            name = getattr(part, "name", None)
            if name and not isinstance(part, NftSet):
                names.append(name)
    return names
