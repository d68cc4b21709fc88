"""The four IPv4 tables of one namespace, as the walk and the tools use them.

`Netfilter.run_chain` walks a built-in chain the way the kernel's ipt_do_table does: a
jump pushes a return point, a goto does not, RETURN pops, and returning from (or falling
off) the built-in chain hands the packet to the chain policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.netfilter.commands import _zero, execute
from playground.net.netfilter.core import Verdict, _Tables
from playground.net.netfilter.parser import _fresh_rules, _parse_command, _parsed_command
from playground.net.netfilter.saverestore import restore, save
from playground.net.netfilter.targets import _TERMINAL
from playground.net.netfilter.values import (
    _ELOOP,
    _ENOENT,
    _MASK32,
    MAX_JUMP_DEPTH,
    SAVE_DATE,
    TABLES,
    IptablesError,
    _kernel,
    _no_table,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from playground.net.netfilter.core import Chain, Rule, Table
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


class Netfilter:
    """The four IPv4 tables of one network namespace."""

    __slots__ = ("tables", "generation", "recent", "nfacct", "counts", "_saved")

    def __init__(self) -> None:
        self.tables: dict[str, Table] = _Tables()
        self.generation = 0   # bumped on every change, for callers that cache
        self.recent: dict[str, dict] = {}  # xt_recent's lists, per namespace as in the kernel
        self.nfacct: dict[str, list[int]] = {}  # nfnetlink_acct objects: name -> [pkts, bytes]
        self.counts: dict[int, list] = {}  # this table's counters of shared rules: [rule, p, b]
        self._saved: tuple | None = None   # the last iptables-save text, and what it showed

    def share(self, table: str, shared) -> None:
        """Show a layer of shared chains (SharedChains) in one table."""
        self.table(table).chains.shared = shared
        self.generation += 1

    def rule_counters(self, chain: Chain, rule: Rule) -> tuple[int, int]:
        """A rule's packets and bytes as this namespace counted them."""
        if not chain.shared:
            return rule.packets, rule.bytes
        entry = self.counts.get(id(rule))
        return (entry[1], entry[2]) if entry is not None and entry[0] is rule else (0, 0)

    def _count(self, chain: Chain, rule: Rule, size: int) -> None:
        if not chain.shared:
            rule.packets += 1
            rule.bytes += size
            return
        entry = self.counts.get(id(rule))
        if entry is None or entry[0] is not rule:
            entry = self.counts[id(rule)] = [rule, 0, 0]
        entry[1] += 1
        entry[2] += size

    def _writable(self, table: Table, name: str) -> Chain:
        """The chain to change in this table: a shared one is copied here first, with the
        counters this namespace has for it."""
        chain = table.chains[name]
        if chain.shared:
            copy = table.chains.writable(name)
            for old, new in zip(chain.rules, copy.rules, strict=True):
                new.packets, new.bytes = self.rule_counters(chain, old)
            chain = copy
        chain.changed()
        return chain

    def table(self, name: str) -> Table:
        if name not in TABLES:
            raise _no_table(name)
        return self.tables[name]

    def has_rules(self, table: str, chain: str) -> bool:
        """Whether a built-in chain holds any rule (without making an unused table)."""
        made = self.tables.get(table)
        return made is not None and bool(made.chains.own[chain].rules)

    def chain(self, table: str, name: str) -> Chain:
        chain = self.table(table).chains.get(name)
        if chain is None:
            raise _kernel(_ENOENT)
        return chain

    def copy(self) -> Netfilter:
        other = Netfilter()
        other.tables = _Tables({name: table.clone() for name, table in self.tables.items()})
        other.generation = self.generation
        other.counts = {key: list(entry) for key, entry in self.counts.items()}
        return other

    def rule_count(self, table: str | None = None) -> int:
        tables = [self.table(table)] if table is not None else self.tables.values()
        return sum(len(c.rules) for t in tables for c in t.chains.values())

    def zero_counters(self) -> None:
        for table in self.tables.values():
            _zero(table.chains.own.values())
        self.counts.clear()

    def iptables(self, argv: list[str] | str, check_table: bool = True) -> None:
        """Run one iptables command (the arguments after the word `iptables`). An agent's
        own fixed rules skip the whole-table loop check (`check_table`): on a node of a
        10,000-Service lab it walks every chain, and theirs cannot make a loop."""
        cmd = _fresh_rules(_parsed_command(argv)) if isinstance(argv, str) \
            else _parse_command(argv)
        execute(self, cmd, validate=check_table)
        self.generation += 1

    def restore(self, text: str, noflush: bool = False, counters: bool = False) -> None:
        """Load iptables-restore text, all or nothing (see saverestore.restore)."""
        restore(self, text, noflush, counters)

    def save(self, tables: Iterable[str] | None = None, counters: bool = False,
             when: str = SAVE_DATE) -> str:
        """iptables-save output; `counters` is -c (each rule prefixed with [p:b])."""
        return save(self, tables, counters, when)

    def run_chain(self, table: str, chain: str, pkt: Packet, meta: PacketMeta) -> Verdict:
        """Traverse a built-in chain the way ipt_do_table does, bumping counters."""
        start = self.chain(table, chain)
        if not start.builtin:
            raise IptablesError(f"run_chain needs a built-in chain, not `{chain}'")
        chains = self.tables[table].chains
        matched: list[tuple[str, int, str]] = []
        walked = 0
        stack: list[tuple[Chain, int]] = []   # where a RETURN resumes
        current, index = start, 0
        dst = int(pkt.dst)
        while True:
            size = len(current.rules)
            if index < size:
                lookup = current.index()
                if lookup is not None:   # skip rules whose -d cannot match, counting them
                    candidate = lookup.next_candidate(dst, index)
                    target_index = size if candidate is None else candidate
                    walked += target_index - index
                    index = target_index
            if index >= size:
                if current.builtin or not stack:
                    break
                current, index = stack.pop()
                continue
            rule = current.rules[index]
            walked += 1
            index += 1
            if not rule.match_packet(pkt, meta):
                continue
            self._count(current, rule, pkt.length)
            matched.append((current.name, index, rule.text(current.name)))
            target = rule.target
            if target is None:
                continue
            name = target.name
            if name == "RETURN":
                if current.builtin or not stack:
                    break
                current, index = stack.pop()
            elif name == "MARK":
                meta.mark = ((meta.mark & ~target.mask) ^ target.mark) & _MASK32
            elif name == "NOTRACK" or target.notrack:
                if meta.ct_state is None:   # a packet conntrack already has keeps its entry
                    meta.ct_state = "UNTRACKED"
            elif name == "CT":
                pass   # a conntrack template with nothing set: no effect here
            elif name in _TERMINAL:
                return Verdict(name, table, current.name, rule, index,
                               to_address=target.to_address,
                               to_port=target.ports[0] if target.ports else None,
                               reject_with=target.reject_with,
                               random_fully=target.random_fully,
                               matched=matched, rules_walked=walked)
            else:
                if not rule.goto:
                    stack.append((current, index))
                    if len(stack) > MAX_JUMP_DEPTH:
                        raise _kernel(_ELOOP)
                current, index = chains[name], 0
        start.packets += 1
        start.bytes += pkt.length
        return Verdict(start.policy, table, start.name, None, None,
                       matched=matched, rules_walked=walked)
