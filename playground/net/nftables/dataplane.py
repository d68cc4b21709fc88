"""Where nf_tables meets the walk: filter and route base chains register at the
namespace's netfilter hooks by priority, beside iptables' tables; nat base chains join
the NAT lookup, which consults every nat chain (iptables' nat table among them) by
priority for a flow's first packet, and conntrack rewrites the rest."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.nfqueue import queue_number
from playground.net.nftables.core import Nftables
from playground.net.nftables.evaluate import Context, Outcome, run_chain
from playground.net.nftables.expr import Ct
from playground.net.nftables.ruleset import Chain, Table
from playground.net.nftables.types import CT_STATES, CT_STATUS
from playground.net.packet import PROTO_NUMBERS
from playground.net.send_error import send_fails
from playground.net.walk.context import END, Step
from playground.net.walk.nf import apply_nat

if TYPE_CHECKING:
    from playground.net.netns import Namespace

PREFIX = "nft "
IPV4_FAMILIES = ("ip", "inet")     # the tables an IPv4 packet meets
_STATUS = {"SRC_NAT": CT_STATUS["snat"], "DST_NAT": CT_STATUS["dnat"],
           "SEEN_REPLY": CT_STATUS["seen-reply"], "ASSURED": CT_STATUS["assured"]}
_NAT_ACTIONS = {"dnat": ("DST", "DNAT"), "snat": ("SRC", "SNAT"),
                "masquerade": ("SRC", "MASQUERADE")}


class NamespaceTables(Nftables):
    """A namespace's nf_tables: after every batch its base chains are registered again."""

    def __init__(self, ns: Namespace) -> None:
        super().__init__(clock=self._now, on_change=NamespaceTables._sync)
        self.ns = ns                # no closures: a deep copy of the lab stays consistent
        self.needs_conntrack = False

    def _now(self) -> float:
        return self.ns.conntrack.clock()

    def _sync(self) -> None:
        ns = self.ns
        hooks = ns.own_hooks()
        for hook, entries in hooks.entries.items():
            for entry in entries:
                if entry.name.startswith(PREFIX):
                    hooks.unregister(hook, entry.name)
        needs = False
        for table, chain in self.base_chains():
            if table.family not in IPV4_FAMILIES:
                continue
            if chain.base.type == "nat":
                needs = True
                continue
            ns.register_hook(chain.base.hook.upper(), chain.base.priority,
                             _name(table, chain),
                             ChainHook(table.family, table.name, chain.name))
        self.needs_conntrack = needs or any(
            isinstance(getattr(s, "left", None), Ct) for table in self.tables.values()
            for chain in table.chains.values() for rule in chain.rules
            for s in rule.statements)

    def nat_lookups(self, hook: str) -> list:
        """(priority, lookup) of the nat base chains at `hook`, for the NAT decision."""
        found = []
        for table, chain in self.base_chains():
            if table.family in IPV4_FAMILIES and chain.base.type == "nat" and \
                    chain.base.hook == hook.lower():
                found.append((chain.base.priority,
                              NatChain(table.family, table.name, chain.name)))
        return found


def attach(ns: Namespace) -> Nftables:
    return NamespaceTables(ns)


def _name(table: Table, chain: Chain) -> str:
    return f"{PREFIX}{table.family} {table.name} {chain.name}"


def context(walk, ns: Namespace, flight, in_dev, out_dev) -> Context:
    tracked = flight.tracked
    if tracked is not None and not flight.invalid:
        state = CT_STATES[tracked.state.lower()]
    elif flight.untracked:
        state = CT_STATES["untracked"]
    else:   # nft_ct_get_eval: no entry (yet, or at all) and not marked untracked
        state = CT_STATES["invalid"]
    status, ct_mark = 0, 0
    if tracked is not None:
        for flag, bit in _STATUS.items():
            if flag in tracked.entry.status:
                status |= bit
        if tracked.entry.confirmed:
            status |= CT_STATUS["confirmed"]
        ct_mark = tracked.entry.mark
    packet = flight.packet
    return Context(packet, in_dev, out_dev, flight.mark, state, status, ct_mark,
                   walk.network.rng, walk.network.clock, lambda a: address_type(ns, a),
                   PROTO_NUMBERS.get(packet.proto, 0),
                   # sent from here (no input device): the lab's processes run as root
                   skuid=0 if in_dev is None and out_dev is not None else None)


def address_type(ns: Namespace, address) -> str:
    """What `fib ... type` answers: the route type the kernel's lookup finds."""
    local = ns.local.lookup(address)
    if local is not None and local.type in ("local", "broadcast"):
        return local.type
    route = ns.main.lookup(address)
    if route is None:
        return "unreachable"
    return route.type if route.type in ("blackhole", "unreachable", "prohibit") else "unicast"


def _outcome_hop(walk, ns, flight, table: Table, base: Chain, outcome: Outcome, in_dev,
                 out_dev, after=None, conntrack=None, note: str = "") -> None:
    if outcome.rule is None:
        who = f"the {base.name} policy"
        rule = f"policy {outcome.verdict}"
    else:
        who = f"rule {outcome.rule.handle} of {outcome.chain}"
        rule = f"{outcome.chain}: {outcome.rule.text()}"
    walk.hop(ns, flight, "nftables", f"{table.family} {table.name} {base.name} "
             f"({base.base.hook}): {who} → {outcome.verdict}{note}", after=after,
             dev_in=in_dev, dev_out=out_dev, rule=rule, table=f"{table.family} {table.name}",
             chain=outcome.chain, rules_walked=outcome.rules_walked,
             matched_rules=[f"{name}: {r.text()}" for name, r in outcome.matched],
             map_entry="; ".join(outcome.elements) or None, conntrack=conntrack)


def _evaluate(walk, ns: Namespace, flight, family: str, table_name: str, chain_name: str,
              in_dev, out_dev):
    table = ns.nft.tables.get((family, table_name))
    base = table.chains.get(chain_name) if table is not None else None
    if base is None or base.base is None:
        return None, None, None
    ctx = context(walk, ns, flight, in_dev, out_dev)
    outcome = run_chain(table, base, ctx)
    flight.mark = ctx.mark
    if flight.tracked is not None:
        flight.tracked.entry.mark = ctx.ct_mark
    if ctx.notrack and flight.tracked is None:
        flight.untracked = True
    return table, base, outcome


class ChainHook:
    """A filter (or route) base chain at its hook: nft_do_chain's verdict on the packet."""

    __slots__ = ("family", "table", "chain")

    def __init__(self, family: str, table: str, chain: str) -> None:
        self.family, self.table, self.chain = family, table, chain

    def __call__(self, walk, ns: Namespace, flight, hook: str, in_dev, out_dev):
        table, base, outcome = _evaluate(walk, ns, flight, self.family, self.table,
                                         self.chain, in_dev, out_dev)
        if outcome is None:
            return None
        _outcome_hop(walk, ns, flight, table, base, outcome, in_dev, out_dev)
        return _verdict_step(walk, ns, flight, hook, in_dev, table, outcome, out_dev)


def _verdict_step(walk, ns, flight, hook, in_dev, table: Table, outcome: Outcome,
                  out_dev=None):
    where = f"{table.family} {table.name}/{outcome.chain}"
    verdict = outcome.verdict
    if verdict == "queue":
        return _queued(walk, ns, flight, hook, in_dev, out_dev, where, outcome.statement)
    if verdict in ("drop", "reject"):
        send_fails(walk, ns, flight, hook, in_dev, "DROP" if verdict != "reject" else "REJECT")
    if verdict == "drop":
        walk.finish("dropped", f"dropped by {where} in {ns.name}", flight)
        return END
    if verdict == "reject":
        walk.finish("rejected", f"rejected by {where} in {ns.name}", flight)
        return Step("reject", ns, flight, outcome.statement.sends)
    return None


def _queued(walk, ns, flight, hook, in_dev, out_dev, where: str, statement):
    """nf_queue: the program bound to the queue answers; NF_ACCEPT re-enters the hook
    after this entry (nf_reinject), NF_DROP frees the packet. Nobody bound: drop, or
    accept with `bypass`."""
    number = queue_number(statement, flight.packet)
    program = ns.nfqueues.get(number)
    if program is None:
        if "bypass" in statement.flags:
            walk.hop(ns, flight, "nfqueue", f"queue {number}: no program is bound; the "
                     "rule's bypass flag → accept", dev_in=in_dev, dev_out=out_dev)
            return None
        send_fails(walk, ns, flight, hook, in_dev, "DROP")
        walk.finish("dropped", f"queued to {number} by {where} in {ns.name}, where no "
                    "program listens: the kernel drops it", flight)
        return END
    answer = program.verdict(ns.name, flight.packet, hook, in_dev, out_dev)
    walk.hop(ns, flight, "nfqueue", f"queue {number}: {answer.program} → "
             f"{answer.verdict}: {answer.reason}", dev_in=in_dev, dev_out=out_dev,
             program=answer.program)
    if answer.verdict == "accept":
        return None
    send_fails(walk, ns, flight, hook, in_dev, "DROP")
    walk.finish("dropped", f"dropped by {answer.program} (queue {number}) in {ns.name}: "
                f"{answer.reason}", flight)
    return END


# NAT


class NatChain:
    """A nat base chain, consulted for a flow's first packet: its dnat, snat or masquerade
    binds the conntrack entry (the way iptables' DNAT/SNAT/MASQUERADE targets do)."""

    __slots__ = ("family", "table", "chain")

    def __init__(self, family: str, table: str, chain: str) -> None:
        self.family, self.table, self.chain = family, table, chain

    def __call__(self, walk, ns: Namespace, flight, hook: str, manip: str, in_dev, out_dev):
        """(whether NAT is now decided, the step to go to instead, if any)."""
        table, base, outcome = _evaluate(walk, ns, flight, self.family, self.table,
                                         self.chain, in_dev, out_dev)
        if outcome is None:
            return False, None
        if outcome.verdict in _NAT_ACTIONS:
            wanted, action = _NAT_ACTIONS[outcome.verdict]
            nat = outcome.statement
            if wanted != manip:
                _outcome_hop(walk, ns, flight, table, base, outcome, in_dev, out_dev,
                             note=f" (not at {hook}: nothing changes)")
                return False, None
            port = nat.port[0] if nat.port else None
            before = flight.packet
            address = IPv4Address(nat.address) if nat.address is not None else None
            after, note = apply_nat(walk, ns, flight, manip, action, address, port,
                                    "fully-random" in nat.flags, out_dev)
            binding = flight.tracked.entry.text() if after != before else None
            _outcome_hop(walk, ns, flight, table, base, outcome, in_dev, out_dev,
                         after=after, conntrack=binding, note=note)
            flight.packet = after
            return True, None
        _outcome_hop(walk, ns, flight, table, base, outcome, in_dev, out_dev)
        step = _verdict_step(walk, ns, flight, hook, in_dev, table, outcome, out_dev)
        return step is not None, step
