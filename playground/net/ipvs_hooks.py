"""Where ip_vs sits in the packet walk, as the kernel registers its hooks.

LOCAL_IN (after filter INPUT, before nat INPUT): a reply from a real server is un-NATed;
a packet for a virtual service is scheduled, DNATed to a real server and sent on through
LOCAL_OUT and POSTROUTING instead of reaching a socket. LOCAL_OUT (after nat OUTPUT,
before filter OUTPUT): the same for packets this namespace sends itself. FORWARD (after
filter): replies of real servers on their way back to the client get the VIP as source.
A packet IPVS handled once is not handled again in the same namespace (ipvs_property).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.conntrack import Tuple
from playground.net.packet import ICMP_DEST_UNREACH, PORT_UNREACHABLE

if TYPE_CHECKING:
    from playground.net.netns import Namespace

# the table each hook runs right after ip_vs; None: ip_vs runs after the last table
IPVS_SLOT = {"INPUT": "nat", "OUTPUT": "filter", "FORWARD": None}
CONNTRACK_SYSCTL = "net.ipv4.vs.conntrack"


class IpvsSteps:
    """Walker steps for ip_vs; mixed into the Walker, which records hops and owns the trace."""

    def _ipvs_hook(self, ns: Namespace, flight, hook: str, table: str | None,
                   in_dev: str | None, out_dev: str | None) -> bool:
        """Called before each table of a hook and once after the last (table None); True
        when IPVS took the packet at LOCAL_IN, to send it on to a real server."""
        if ns.ipvs is None or hook not in IPVS_SLOT or IPVS_SLOT[hook] != table:
            return False
        if flight.ipvs_ns == ns.name or flight.packet.proto not in ("tcp", "udp"):
            return False
        if self._ipvs_reply(ns, flight, in_dev, out_dev) or hook == "FORWARD":
            return False
        self._ipvs_request(ns, flight, hook, in_dev, out_dev)
        return flight.ipvs_forward

    def _ipvs_reply(self, ns: Namespace, flight, in_dev, out_dev) -> bool:
        pkt, now = flight.packet, self.network.clock
        conn = ns.ipvs.conn_out(pkt, now)
        if conn is None:
            return False
        ns.ipvs.set_state(conn, True, pkt, now)
        after = pkt.with_(src=conn.vaddr, sport=conn.vport)
        flight.ipvs_ns = ns.name
        self._hop(ns, flight, "ipvs", f"IPVS: a reply from real server {conn.daddr}:"
                  f"{conn.dport} of {conn.proto.upper()} {conn.vaddr}:{conn.vport}; its "
                  "connection entry puts the virtual address back as the source",
                  after=after, dev_in=in_dev, dev_out=out_dev, rule=conn.line(now))
        flight.packet = after
        return True

    def _ipvs_request(self, ns: Namespace, flight, hook: str, in_dev, out_dev) -> None:
        pkt, now = flight.packet, self.network.clock
        conn = ns.ipvs.conn_in(pkt, now)
        how = "the flow's connection entry names its real server"
        if conn is None:
            service = ns.ipvs.service(pkt.proto, pkt.dst, pkt.dport)
            flags = pkt.flag_set
            if service is None or pkt.proto == "tcp" and (flags != {"SYN"}):
                return  # not a virtual service, or not a flow's first packet: the stack has it
            conn, how = ns.ipvs.schedule(service, pkt, now)
            if conn is None:
                self._hop(ns, flight, "ipvs", f"IPVS: {service.text} is a virtual service "
                          f"with no real server to send to ({how}); the kernel answers ICMP "
                          "port unreachable", dev_in=in_dev, dev_out=out_dev)
                self._icmp_error(ns, flight, ICMP_DEST_UNREACH, PORT_UNREACHABLE)
                self._finish("rejected", f"IPVS in {ns.name}: {service.text} has no real "
                             "servers", flight)
                from playground.net.walk import Stop  # walk imports this module
                raise Stop
        ns.ipvs.set_state(conn, False, pkt, now)
        after = pkt.with_(dst=conn.daddr, dport=conn.dport)
        if hook == "INPUT":  # forwarded on, as a router would
            after = after.with_(ttl=after.ttl - 1)
        flight.ipvs_ns = ns.name
        self._ipvs_conntrack(ns, flight, conn)
        self._hop(ns, flight, "ipvs", f"IPVS: virtual service {conn.proto.upper()} "
                  f"{conn.vaddr}:{conn.vport} sends this flow to real server {conn.daddr}:"
                  f"{conn.dport} (Masq, so the destination is rewritten); {how}",
                  after=after, dev_in=in_dev, dev_out=out_dev, rule=conn.line(now),
                  conntrack=flight.tracked.entry.text() if flight.tracked else None)
        flight.packet = after
        flight.ipvs_forward = hook == "INPUT"

    @staticmethod
    def _ipvs_conntrack(ns: Namespace, flight, conn) -> None:
        """With net.ipv4.vs.conntrack=1 the new flow's conntrack entry learns the real
        server (ip_vs_update_conntrack); with 0 the packet goes on untracked."""
        tracked = flight.tracked
        if ns.sysctl.get(CONNTRACK_SYSCTL) != "1":
            flight.tracked = None
            return
        if tracked is None or tracked.entry.confirmed or tracked.direction != 0:
            return
        reply = tracked.entry.reply
        tracked.entry.reply = Tuple(reply.proto, conn.daddr, conn.dport, reply.dst,
                                    reply.dport)

    def _ipvs_xmit(self, ns: Namespace, flight, in_dev: str):
        """ip_vs_nat_xmit: route to the real server and leave through LOCAL_OUT."""
        pkt = flight.packet
        flight.ipvs_forward = False
        result = ns.route_lookup(pkt.dst, pkt)
        if result is None or result.route.type in ("unreachable", "prohibit", "blackhole"):
            self._hop(ns, flight, "drop", f"IPVS: no route to real server {pkt.dst}; the "
                      "packet is dropped")
            self._finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
            return None
        if result.route.type == "local":
            self._confirm(ns, flight)
            return ("deliver", ns, ns.device(in_dev), flight)
        self._hop(ns, flight, "route", "IPVS sends the packet to the real server: "
                  + self._route_sentence(result, pkt.dst) + " (through OUTPUT and POSTROUTING)",
                  dev_out=result.dev, route=result.route.text())
        self._hooks(ns, flight, "OUTPUT", None, result.dev)
        return ("post_routing", ns, flight, result, in_dev)
