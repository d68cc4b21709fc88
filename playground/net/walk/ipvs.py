"""ip_vs in the packet walk, at the hooks and priorities ip_vs_core.c registers.

LOCAL_IN (NF_IP_PRI_NAT_SRC - 2 and - 1, after filter INPUT, before nat INPUT): a reply
from a real server is un-NATed; a packet for a virtual service is scheduled, DNATed to a
real server and sent on through LOCAL_OUT and POSTROUTING instead of reaching a socket.
LOCAL_OUT (NF_IP_PRI_NAT_DST + 1 and + 2, after nat OUTPUT, before filter OUTPUT): the
same for packets this namespace sends itself. FORWARD (NF_IP_PRI_NAT_SRC, after filter):
replies of real servers on their way back to the client get the VIP as source. A packet
IPVS handled once is not handled again in the same namespace (ipvs_property).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.conntrack import Tuple
from playground.net.hooks import PRI_NAT_DST, PRI_NAT_SRC, HookTable
from playground.net.packet import ICMP_DEST_UNREACH, PORT_UNREACHABLE
from playground.net.walk.context import END, Flight, Step, Walk, stage

if TYPE_CHECKING:
    from playground.net.netns import Namespace

CONNTRACK_SYSCTL = "net.ipv4.vs.conntrack"


def register(hooks: HookTable) -> None:
    """What loading ip_vs adds to a namespace's hooks."""
    hooks.register("INPUT", PRI_NAT_SRC - 2, "ipvs reply", reply)
    hooks.register("INPUT", PRI_NAT_SRC - 1, "ipvs request", request)
    hooks.register("OUTPUT", PRI_NAT_DST + 1, "ipvs local reply", reply)
    hooks.register("OUTPUT", PRI_NAT_DST + 2, "ipvs local request", request)
    hooks.register("FORWARD", PRI_NAT_SRC, "ipvs reply", reply)


def _ours(ns: Namespace, flight: Flight) -> bool:
    return flight.ipvs_ns != ns.name and flight.packet.proto in ("tcp", "udp")


def reply(walk: Walk, ns: Namespace, flight: Flight, hook, in_dev, out_dev) -> None:
    """ip_vs_out: a real server's answer gets its virtual address back as the source."""
    if not _ours(ns, flight):
        return
    pkt, now = flight.packet, walk.network.clock
    conn = ns.ipvs.conn_out(pkt, now)
    if conn is None:
        return
    ns.ipvs.set_state(conn, True, pkt, now)
    after = pkt.with_(src=conn.vaddr, sport=conn.vport)
    flight.ipvs_ns = ns.name
    walk.hop(ns, flight, "ipvs", f"IPVS: a reply from real server {conn.daddr}:"
             f"{conn.dport} of {conn.proto.upper()} {conn.vaddr}:{conn.vport}; its "
             "connection entry puts the virtual address back as the source",
             after=after, dev_in=in_dev, dev_out=out_dev, rule=conn.line(now))
    flight.packet = after


def request(walk: Walk, ns: Namespace, flight: Flight, hook, in_dev, out_dev) -> Step | None:
    """ip_vs_in: schedule a virtual service's new flow (or follow its connection entry)."""
    if not _ours(ns, flight):
        return None
    pkt, now = flight.packet, walk.network.clock
    conn = ns.ipvs.conn_in(pkt, now)
    how = "the one the flow's connection entry names"
    if conn is None:
        service = ns.ipvs.service(pkt.proto, pkt.dst, pkt.dport)
        flags = pkt.flag_set
        if service is None or pkt.proto == "tcp" and (flags != {"SYN"}):
            return None  # not a virtual service, or not a flow's first packet: the stack has it
        conn, how = ns.ipvs.schedule(service, pkt, now)
        if conn is None:
            walk.hop(ns, flight, "ipvs", f"IPVS: {service.text} is a virtual service "
                     f"with no real server to send to ({how}); the kernel answers ICMP "
                     "port unreachable", dev_in=in_dev, dev_out=out_dev)
            walk.finish("rejected", f"IPVS in {ns.name}: {service.text} has no real "
                        "servers", flight)
            return Step("icmp_error", ns, flight, ICMP_DEST_UNREACH, PORT_UNREACHABLE)
    ns.ipvs.set_state(conn, False, pkt, now)
    after = pkt.with_(dst=conn.daddr, dport=conn.dport)
    flight.ipvs_ns = ns.name
    _conntrack(ns, flight, conn)
    walk.hop(ns, flight, "ipvs", f"IPVS: virtual service {conn.proto.upper()} "
             f"{conn.vaddr}:{conn.vport} sends this flow to real server {conn.daddr}:"
             f"{conn.dport}, {how}, rewriting the destination (Masq)",
             after=after, dev_in=in_dev, dev_out=out_dev, rule=conn.line(now),
             conntrack=flight.tracked.entry.text() if flight.tracked else None)
    flight.packet = after
    if hook != "INPUT":
        return None
    # ip_vs_nat_xmit: to a real server elsewhere the packet leaves again; to one of this
    # namespace's own addresses it goes on through LOCAL_IN to the socket
    result = ns.route_lookup(after.dst, after)
    if result is not None and result.route.type == "local":
        return None
    return Step("ipvs_xmit", ns, flight, in_dev)


def _conntrack(ns: Namespace, flight: Flight, conn) -> None:
    """With net.ipv4.vs.conntrack=1 the new flow's conntrack entry learns the real server
    (ip_vs_update_conntrack); with 0 the packet goes on untracked (ip_vs_notrack)."""
    tracked = flight.tracked
    if ns.sysctl.get(CONNTRACK_SYSCTL) != "1":
        flight.tracked, flight.untracked = None, True
        return
    if tracked is None or tracked.entry.confirmed or tracked.direction != 0:
        return
    reply_tuple = tracked.entry.reply
    tracked.entry.reply = Tuple(reply_tuple.proto, conn.daddr, conn.dport, reply_tuple.dst,
                                reply_tuple.dport)


@stage
def ipvs_xmit(walk: Walk, ns: Namespace, flight: Flight, in_dev: str) -> Step:
    """ip_vs_nat_xmit: route to the real server and leave through LOCAL_OUT."""
    pkt = flight.packet
    result = ns.route_lookup(pkt.dst, pkt)
    if result is None or result.route.type in ("unreachable", "prohibit", "blackhole"):
        walk.hop(ns, flight, "drop", f"IPVS: no route to real server {pkt.dst}; the "
                 "packet is dropped")
        walk.finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
        return END
    forwarded = pkt.with_(ttl=pkt.ttl - 1)  # it came from another host: a router's hop
    walk.hop(ns, flight, "forward", "IPVS sends the packet to the real server: "
             + walk.route_sentence(result, pkt.dst) + f"; TTL {pkt.ttl}→{pkt.ttl - 1}, "
             "then OUTPUT and POSTROUTING", after=forwarded, dev_out=result.dev,
             route=result.route.text())
    flight.packet = forwarded
    step = walk.hooks(ns, flight, "OUTPUT", None, result.dev)
    if step is not None:
        return step
    return Step("post_routing", ns, flight, result, in_dev)
