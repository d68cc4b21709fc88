"""Rules, chains, tables and verdicts as the kernel holds them."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from playground.net.chains import Chains
from playground.net.netfilter.matches.comment import CommentMatch
from playground.net.netfilter.targets import _TARGETS
from playground.net.netfilter.values import _PROTO_NAMES, BUILTIN_CHAINS, TABLES, _iface_matches
from playground.net.packet import PROTO_NUMBERS

if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv4Network

    from playground.net.netfilter.matches.base import Match
    from playground.net.netfilter.targets import Target
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class Rule:
    """One rule as the kernel holds it; `text(chain)` is its iptables-save line.

    Treat a rule as immutable once added (only the counters move): its save text is
    cached and is what -D and -C compare, as iptables compares the binary rule.
    """

    src: IPv4Network | None = None
    src_inv: bool = False
    dst: IPv4Network | None = None
    dst_inv: bool = False
    in_iface: str | None = None
    in_inv: bool = False
    out_iface: str | None = None
    out_inv: bool = False
    proto: int = 0
    proto_inv: bool = False
    matches: list[Match] = field(default_factory=list)
    target: Target | None = None
    goto: bool = False
    packets: int = field(default=0, compare=False)
    bytes: int = field(default=0, compare=False)
    _spec: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def comment(self) -> str | None:
        return next((m.comment for m in self.matches if isinstance(m, CommentMatch)), None)

    def spec(self) -> str:
        """The rule without `-A CHAIN`, in the order iptables-save prints it."""
        if self._spec is None:
            self._spec = self._render()
        return self._spec

    def _render(self) -> str:
        parts = []
        for flag, net, inverted in (("-s", self.src, self.src_inv),
                                    ("-d", self.dst, self.dst_inv)):
            if net is not None and (net.prefixlen or int(net.network_address) or inverted):
                parts.append(("! " if inverted else "") + f"{flag} {net}")
        for flag, name, inverted in (("-i", self.in_iface, self.in_inv),
                                     ("-o", self.out_iface, self.out_inv)):
            if name:
                parts.append(("! " if inverted else "") + f"{flag} {name}")
        if self.proto:
            proto = _PROTO_NAMES.get(self.proto, str(self.proto))
            parts.append(("! " if self.proto_inv else "") + f"-p {proto}")
        for match in self.matches:
            parts.append(f"-m {match.name}")
            options = match.save()
            if options:
                parts.append(options)
        if self.target is not None:
            parts.append(f"-{'g' if self.goto else 'j'} {self.target.name}")
            options = self.target.save()
            if options:
                parts.append(options)
        return " ".join(parts)

    def text(self, chain: str) -> str:
        spec = self.spec()
        return f"-A {chain} {spec}" if spec else f"-A {chain}"

    def match_packet(self, pkt: Packet, meta: PacketMeta) -> bool:
        """The IP header part first, then each module in order, stopping at the first miss."""
        if self.src is not None and (pkt.src in self.src) == self.src_inv:
            return False
        if self.dst is not None and (pkt.dst in self.dst) == self.dst_inv:
            return False
        if self.in_iface and _iface_matches(self.in_iface, meta.in_dev) == self.in_inv:
            return False
        if self.out_iface and _iface_matches(self.out_iface, meta.out_dev) == self.out_inv:
            return False
        if self.proto and (PROTO_NUMBERS.get(pkt.proto) == self.proto) == self.proto_inv:
            return False
        return all(match.test(pkt, meta) for match in self.matches)

    def clone(self) -> Rule:
        return replace(self, matches=[match.clone() for match in self.matches])


@dataclass(slots=True)
class Chain:
    """A chain; built-in chains have a policy (and its counters), user chains have None."""

    name: str
    policy: str | None = None
    rules: list[Rule] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0
    shared: bool = False   # held once for many tables: its counters live per table
    version: int = 0       # bumped on every change of `rules`, for the index
    _index: DstIndex | None = field(default=None, repr=False, compare=False)
    _text: tuple[int, str] | None = field(default=None, repr=False, compare=False)
    _header: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    def clone(self) -> Chain:
        return Chain(self.name, self.policy, [r.clone() for r in self.rules],
                     self.packets, self.bytes)

    def changed(self) -> None:
        self.version += 1

    @property
    def parsed(self) -> bool:
        """Whether the rules exist as Rule objects (a SavedChain may hold only its text)."""
        return True

    def target_names(self) -> list[str | None]:
        """Each rule's -j/-g name (None for none): what the loop check and -X look at."""
        return [r.target.name if r.target is not None else None for r in self.rules]

    def uses_module(self, name: str) -> bool:
        """Whether some rule loads the match module `name` (`-m set`, ...)."""
        return any(match.name == name for rule in self.rules for match in rule.matches)

    def header(self) -> str:
        """A user chain's `:NAME - [0:0]` line, made once per name."""
        if self._header is None or self._header[0] != self.name:
            self._header = (self.name, f":{self.name} - [0:0]\n")
        return self._header[1]

    def save_text(self) -> str:
        """The chain's iptables-save lines (no counters), kept until the chain changes: a
        shared chain is rendered once for every table that shows it."""
        if self._text is None or self._text[0] != self.version:
            name = self.name
            self._text = (self.version, "".join(rule.text(name) + "\n" for rule in self.rules))
        return self._text[1]

    def index(self) -> DstIndex | None:
        """Where each destination's rules are, for a long chain (None for a short one)."""
        if len(self.rules) < INDEX_MIN_RULES:
            return None
        if self._index is None or self._index.version != self.version:
            self._index = DstIndex(self.rules, self.version)
        return self._index


INDEX_MIN_RULES = 32


def _chain_name(chain: Chain) -> str:
    return chain.name


class DstIndex:
    """The positions of the rules that could match a destination address: those for that
    exact /32 and those that name no single destination. Every other rule fails on its
    -d before any match runs (the kernel checks the IP header first), so skipping it
    changes nothing but the time taken; the skipped rules still count as walked."""

    __slots__ = ("version", "by_dst", "wild")

    def __init__(self, rules: list[Rule], version: int) -> None:
        self.version = version
        self.by_dst: dict[int, list[int]] = {}
        self.wild: list[int] = []
        for position, rule in enumerate(rules):
            dst = rule.dst
            if dst is not None and dst.prefixlen == 32 and not rule.dst_inv:
                self.by_dst.setdefault(int(dst.network_address), []).append(position)
            else:
                self.wild.append(position)

    def next_candidate(self, dst: int, start: int) -> int | None:
        """The first position at or after `start` whose rule might match `dst`."""
        best = None
        for positions in (self.by_dst.get(dst), self.wild):
            if positions:
                at = bisect_left(positions, start)
                if at < len(positions) and (best is None or positions[at] < best):
                    best = positions[at]
        return best


@dataclass(slots=True)
class Table:
    """Chains in kernel order: built-ins first, then user chains as they were created."""

    name: str
    chains: Chains = field(default_factory=Chains)

    @classmethod
    def fresh(cls, name: str) -> Table:
        return cls(name, Chains({chain: Chain(chain, "ACCEPT")
                                 for chain in BUILTIN_CHAINS[name]}))

    def ordered(self) -> list[Chain]:
        """The order iptables-save uses: built-ins, then user chains by name."""
        chains = self.chains
        users = [c for c in chains.own.values() if not c.builtin]
        if chains.shared is not None:   # already sorted: sorting the two runs is linear
            skip = chains.own.keys() | chains.hidden
            layer = chains.shared.chains
            users += [layer[name] for name in chains.shared.sorted_names() if name not in skip]
        users.sort(key=_chain_name)
        return [c for c in chains.own.values() if c.builtin] + users

    def references(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for chain in self.chains.values():
            for name in chain.target_names():
                if name is not None and name not in _TARGETS:
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def clone(self) -> Table:
        return Table(self.name, self.chains.layered(
            {name: c.clone() for name, c in self.chains.own.items()}))


@dataclass(slots=True)
class Verdict:
    """How one table's traversal ended, and the rules that led there."""

    action: str
    table: str
    chain: str
    rule: Rule | None
    rule_index: int | None
    to_address: IPv4Address | None = None
    to_port: int | None = None
    reject_with: str | None = None
    random_fully: bool = False
    matched: list[tuple[str, int, str]] = field(default_factory=list)
    rules_walked: int = 0

    def rule_text(self) -> str:
        if self.rule is None:
            return f"-P {self.chain} {self.action}"
        return self.rule.text(self.chain)


class _Tables(dict):
    """A namespace's tables, each made on first use: most pods never get a rule, and an
    unused table is all empty built-in chains with an ACCEPT policy."""

    def __missing__(self, name: str) -> Table:
        if name not in TABLES:
            raise KeyError(name)
        table = self[name] = Table.fresh(name)
        return table

    def values(self):
        return [self[name] for name in TABLES]

    def items(self):
        return [(name, self[name]) for name in TABLES]
