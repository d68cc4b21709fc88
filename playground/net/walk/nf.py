"""What registers at the netfilter hooks of every namespace: conntrack, NAT and iptables.

Each is a hook function `(walk, ns, flight, hook, in_dev, out_dev)` returning None to let
the packet go on, or the step it goes to instead (END when a rule dropped it). NEW_HOOKS
holds them at the kernel's priorities; every namespace starts from it.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.conntrack import ORIGINAL, REPLY, Tuple, nat_rewrite, related_rewrite
from playground.net.hooks import (
    PRI_CONNTRACK,
    PRI_CONNTRACK_CONFIRM,
    PRI_FILTER,
    PRI_MANGLE,
    PRI_NAT_DST,
    PRI_NAT_SRC,
    PRI_RAW,
    HookTable,
)
from playground.net.netfilter import PacketMeta
from playground.net.packet import Packet
from playground.net.send_error import send_fails
from playground.net.walk.context import END, Flight, Step, Tracked, Walk

if TYPE_CHECKING:
    from playground.net.netns import Namespace


# conntrack


def conntrack_in(walk: Walk, ns: Namespace, flight: Flight, hook, in_dev, out_dev) -> None:
    """nf_conntrack_in: find the packet's entry, or make an unconfirmed one."""
    if flight.tracked is not None or flight.invalid or flight.untracked:
        return  # looped back through lo, generated with its entry attached, or NOTRACK
    if not ns.tracks_connections:
        return
    pkt = flight.packet
    found = ns.conntrack.lookup(pkt)
    if found is None and pkt.is_icmp_error and pkt.inner is not None:
        inner_found = ns.conntrack.lookup_related(pkt)
        if inner_found is not None:
            entry, direction = inner_found
            flight.tracked = Tracked(entry, direction, "RELATED")
            walk.hop(ns, flight, "conntrack", "an ICMP error about a tracked flow: RELATED",
                     conntrack=entry.text())
            return
        # the kernel's icmp_error_message: an error about no known flow gets no entry
        walk.hop(ns, flight, "conntrack", "conntrack: INVALID (an ICMP error about no "
                 "tracked flow)")
        flight.invalid = True
        return
    if found is not None:
        entry, direction = found
        seen = "SEEN_REPLY" in entry.status
        state = "ESTABLISHED" if direction == REPLY or seen else "NEW"
        flight.tracked = Tracked(entry, direction, state)
        ns.conntrack.update_state(entry, direction, pkt)
        way = "reply" if direction == REPLY else "original"
        walk.hop(ns, flight, "conntrack", f"conntrack: {state} ({way} direction of a "
                 "known flow)", conntrack=entry.text())
        return
    flags = pkt.flag_set
    if pkt.proto == "tcp" and ("RST" in flags or {"SYN", "ACK"} <= flags):
        walk.hop(ns, flight, "conntrack", "conntrack: INVALID (a reply with no "
                 "connection behind it)")
        flight.invalid = True
        return
    entry = ns.conntrack.new(pkt)
    flight.tracked = Tracked(entry, ORIGINAL, "NEW")
    walk.hop(ns, flight, "conntrack", "conntrack: NEW flow, the entry is confirmed when "
             "the packet leaves the stack", conntrack=entry.original.text())


def confirm(walk: Walk, ns: Namespace, flight: Flight, hook, in_dev, out_dev) -> None:
    """nf_conntrack_confirm, last at POSTROUTING and INPUT: a new entry joins the table."""
    tracked = flight.tracked
    if tracked is None or tracked.entry.confirmed or tracked.state != "NEW":
        return
    ns.conntrack.confirm(tracked.entry, flight.packet)


# iptables' tables


def packet_meta(walk: Walk, ns: Namespace, flight: Flight, in_dev, out_dev) -> PacketMeta:
    tracked = flight.tracked
    status = frozenset()
    if tracked is not None:  # what --ctstate SNAT/DNAT sees
        status = frozenset(shown for flag, shown in (("SRC_NAT", "SNAT"), ("DST_NAT", "DNAT"))
                           if flag in tracked.entry.status)
    if flight.invalid:
        state = "INVALID"
    elif tracked is not None:
        state = tracked.state
    else:
        state = "UNTRACKED" if flight.untracked else None
    network = walk.network
    return PacketMeta(in_dev=in_dev, out_dev=out_dev, mark=flight.mark, ct_state=state,
                      ct_status=status, local_addresses=ns.local_addresses(), rng=network.rng,
                      recent=ns.netfilter.recent, now=network.clock, ipsets=ns.ipsets,
                      nfacct=ns.netfilter.nfacct, phys_in=flight.phys_in,
                      phys_out=flight.phys_out)


def rule_hop(walk: Walk, ns, flight, table, hook, verdict, in_dev, out_dev, after=None,
             conntrack: str | None = None, note: str = "") -> None:
    decided = verdict.rule_text()
    who = f"rule {verdict.rule_index} of {verdict.chain}" if verdict.rule else \
        f"the {verdict.chain} policy"
    walk.hop(ns, flight, "netfilter", f"{table} {hook}: {who} → {verdict.action}{note}",
             after=after, dev_in=in_dev, dev_out=out_dev, rule=decided, table=table,
             chain=verdict.chain, rules_walked=verdict.rules_walked,
             matched_rules=[text for _chain, _i, text in verdict.matched],
             conntrack=conntrack)


class TableHook:
    """One iptables table (not nat, which NAT consults) at one hook: iptable_filter etc."""

    __slots__ = ("table",)

    def __init__(self, table: str) -> None:
        self.table = table

    def __call__(self, walk: Walk, ns: Namespace, flight: Flight, hook: str, in_dev,
                 out_dev) -> Step | None:
        table, nf = self.table, ns.netfilter
        if not nf.has_rules(table, hook):
            return None
        meta = packet_meta(walk, ns, flight, in_dev, out_dev)
        verdict = nf.run_chain(table, hook, flight.packet, meta)
        flight.mark = meta.mark
        note = ""
        if meta.ct_state == "UNTRACKED" and not flight.untracked and flight.tracked is None:
            flight.untracked = True  # CT --notrack / NOTRACK: conntrack will not see it
            note = "; the packet is marked untracked"
        rule_hop(walk, ns, flight, table, hook, verdict, in_dev, out_dev, note=note)
        send_fails(walk, ns, flight, hook, in_dev, verdict.action)
        if verdict.action == "DROP":
            walk.finish("dropped", f"dropped by {table}/{verdict.chain} in {ns.name}", flight)
            return END
        if verdict.action == "REJECT":
            walk.finish("rejected", f"rejected by {table}/{verdict.chain} in {ns.name}",
                        flight)
            return Step("reject", ns, flight, verdict.reject_with or "icmp-port-unreachable")
        return None


# NAT: the nat table decides a flow's first packet; conntrack rewrites every later one


def nat(walk: Walk, ns: Namespace, flight: Flight, hook: str, in_dev, out_dev) -> Step | None:
    tracked = flight.tracked
    if tracked is None:
        return None
    manip = "DST" if hook in ("PREROUTING", "OUTPUT") else "SRC"
    entry = tracked.entry
    before = flight.packet
    if tracked.state == "RELATED":
        after = related_rewrite(before, entry, tracked.direction, manip)
    elif manip in entry.nat_done or entry.confirmed:
        after = nat_rewrite(before, entry, tracked.direction, manip)
    else:
        return _nat_decide(walk, ns, flight, hook, manip, in_dev, out_dev)
    if after != before:
        what = "destination" if manip == "DST" else "source"
        # the hop records flight.packet as its before: rewrite only once it is recorded
        walk.hop(ns, flight, "nat", f"conntrack rewrites the {what} back, as the entry "
                 "says (the nat table is not consulted again)", after=after,
                 conntrack=entry.text())
        flight.packet = after
    return None


def _nat_decide(walk: Walk, ns, flight, hook, manip, in_dev, out_dev) -> Step | None:
    """nf_nat_inet_fn: the nat chains of this hook (iptables' nat table and nftables' nat
    base chains) by priority, until one binds the flow or takes the packet."""
    flight.tracked.entry.nat_done.add(manip)
    lookups = [(PRI_NAT_DST if manip == "DST" else PRI_NAT_SRC, _iptables_nat)]
    nft = ns.nft_if_loaded
    if nft is not None:
        # nf_hook_entries_grow puts a new chain before those of its priority: at a tie the
        # newest runs first, and nft's chains come after iptables' nat table (verify's lab
        # loads iptables-restore first)
        lookups = nft.nat_lookups(hook)[::-1] + lookups
        lookups.sort(key=lambda item: item[0])   # stable, so the order above holds at a tie
    for _priority, lookup in lookups:
        decided, step = lookup(walk, ns, flight, hook, manip, in_dev, out_dev)
        if decided:
            return step
    return None


def _iptables_nat(walk: Walk, ns, flight, hook, manip, in_dev, out_dev):
    nf = ns.netfilter
    if not nf.has_rules("nat", hook):
        return False, None
    pkt = flight.packet
    meta = packet_meta(walk, ns, flight, in_dev, out_dev)
    verdict = nf.run_chain("nat", hook, pkt, meta)
    flight.mark = meta.mark
    after, note = pkt, ""
    decided = verdict.action in ("DNAT", "SNAT", "MASQUERADE")
    if decided:
        after, note = apply_nat(walk, ns, flight, manip, verdict.action, verdict.to_address,
                                verdict.to_port, verdict.random_fully, out_dev)
    binding = flight.tracked.entry.text() if after != pkt else None  # the entry holds the NAT
    rule_hop(walk, ns, flight, "nat", hook, verdict, in_dev, out_dev, after=after,
             conntrack=binding, note=note)
    flight.packet = after
    return decided, None


def apply_nat(walk: Walk, ns, flight, manip: str, action: str, address, port, random_fully,
              out_dev) -> tuple[Packet, str]:
    """Bind a flow's first packet to a translation, as a NAT target or statement does:
    the packet as rewritten, and a note when the translation changes nothing."""
    entry = flight.tracked.entry
    pkt = flight.packet
    if action == "MASQUERADE":
        address = _masquerade_address(ns, out_dev, pkt)
    elif address is None:   # `dnat to :PORT`: the address stays
        address = pkt.dst if manip == "DST" else pkt.src
    if manip == "SRC":
        port = _free_source_port(walk, ns, entry, address, port, random_fully)
    if _unchanged(pkt, manip, address, port):
        # nf_nat_setup_info: a translation to the tuple the flow already has sets no
        # NAT status and rewrites nothing
        what = "source" if manip == "SRC" else "destination"
        return pkt, f"; the {what} is already {address}, so nothing changes"
    ns.conntrack.bind_nat(entry, manip, address, port)
    return nat_rewrite(pkt, entry, ORIGINAL, manip), ""


def _unchanged(pkt: Packet, manip: str, address, port: int | None) -> bool:
    if manip == "SRC":
        return address == pkt.src and (port is None or pkt.proto == "icmp"
                                       or port == pkt.sport)
    return address == pkt.dst and (port is None or pkt.proto == "icmp" or port == pkt.dport)


def _masquerade_address(ns: Namespace, out_dev: str, pkt: Packet) -> IPv4Address:
    """The address the kernel would pick as source on the way out of `out_dev`."""
    result = ns.route_lookup(pkt.dst)
    if result is not None and result.dev == out_dev and result.src is not None:
        return result.src
    return ns.primary_address(out_dev)


def _free_source_port(walk: Walk, ns, entry, address, port, random_fully) -> int | None:
    """Keep the source port unless another flow already owns the translated tuple."""
    rng = walk.network.rng
    reply = entry.reply
    wanted = port if port is not None else reply.dport
    if random_fully and entry.original.proto != "icmp":
        wanted = rng.randint(1024, 65535)
    for _ in range(64):
        candidate = Tuple(reply.proto, reply.src, reply.sport, address, wanted)
        if not ns.conntrack.is_taken(candidate, entry):
            return wanted
        wanted = rng.randint(1024, 65535)
    return wanted


def _base_hooks() -> HookTable:
    """The hooks of a new namespace, as iptable_raw, nf_conntrack, iptable_mangle,
    iptable_nat and iptable_filter register them."""
    table = HookTable(shared=True)
    for hook in ("PREROUTING", "OUTPUT"):
        table.register(hook, PRI_RAW, "iptables raw", TableHook("raw"))
        table.register(hook, PRI_CONNTRACK, "conntrack", conntrack_in)
        table.register(hook, PRI_NAT_DST, "nat dst", nat)
    for hook in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"):
        table.register(hook, PRI_MANGLE, "iptables mangle", TableHook("mangle"))
    for hook in ("INPUT", "FORWARD", "OUTPUT"):
        table.register(hook, PRI_FILTER, "iptables filter", TableHook("filter"))
    for hook in ("INPUT", "POSTROUTING"):
        table.register(hook, PRI_NAT_SRC, "nat src", nat)
        table.register(hook, PRI_CONNTRACK_CONFIRM, "conntrack confirm", confirm)
    return table


NEW_HOOKS = _base_hooks()
