"""Walk a packet through the modelled kernels, recording every step as a Hop.

The order of steps is the Linux receive/transmit path: route lookup, netfilter hooks in
kernel order, conntrack and NAT, neighbour resolution, link transmit, bridge switching.
Nothing here knows what kind of namespace it is in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net import l2, vxlan
from playground.net.bpf.program import SockContext, TcContext, Verdict
from playground.net.conntrack import (
    ORIGINAL,
    REPLY,
    Entry,
    Tuple,
    nat_rewrite,
    related_rewrite,
)
from playground.net.ipvs_hooks import IpvsSteps
from playground.net.link import Bridge, Device, Loopback
from playground.net.netfilter import PacketMeta
from playground.net.packet import (
    ADMIN_PROHIBITED,
    FRAG_NEEDED,
    HOST_UNREACHABLE,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    NET_UNREACHABLE,
    PORT_UNREACHABLE,
    Packet,
)
from playground.net.redirect import send_redirect
from playground.net.send_error import send_fails
from playground.net.trace import Delivery, Hop, Trace

if TYPE_CHECKING:
    from playground.net.netns import Namespace, RouteResult
    from playground.net.network import Network

MAX_STEPS = 2000

# Which tables each hook runs, in the kernel's priority order.
HOOK_TABLES = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "nat"),
    "FORWARD": ("mangle", "filter"),
    "OUTPUT": ("raw", "mangle", "nat", "filter"),
    "POSTROUTING": ("mangle", "nat"),
}
# nat at these hooks rewrites the destination; at the others, the source.
DST_HOOKS = ("PREROUTING", "OUTPUT")
UNREACH_CODES = {"unreachable": HOST_UNREACHABLE, "prohibit": ADMIN_PROHIBITED}
REJECT_CODES = {
    "icmp-port-unreachable": PORT_UNREACHABLE,
    "icmp-net-unreachable": NET_UNREACHABLE,
    "icmp-host-unreachable": HOST_UNREACHABLE,
    "icmp-admin-prohibited": ADMIN_PROHIBITED,
    "icmp-host-prohibited": 10,
    "icmp-net-prohibited": 9,
}


@dataclass(slots=True)
class Tracked:
    """The conntrack entry a packet carries inside one namespace."""

    entry: Entry
    direction: int
    state: str


@dataclass(slots=True)
class Flight:
    """A packet in flight plus the skb metadata that travels with it."""

    packet: Packet
    role: str = "packet"
    mark: int = 0
    tracked: Tracked | None = None
    src_mac: str | None = None
    dst_mac: str | None = None
    invalid: bool = False
    carried: Flight | None = None  # set on a tunnel's outer packet: the frame inside
    ipvs_ns: str | None = None  # the namespace whose IPVS already handled it (ipvs_property)
    ipvs_forward: bool = False  # IPVS took it at LOCAL_IN: it leaves instead of being delivered


class Stop(Exception):
    """Ends the current packet's walk."""


class Walker(IpvsSteps):
    def __init__(self, network: Network) -> None:
        self.network = network
        self.trace: Trace | None = None
        self.pending: deque = deque()
        self.steps = 0

    # entry points

    def send(self, ns: Namespace, packet: Packet, owner: str | None = None) -> Trace:
        """Walk `packet` from `ns`; with an `owner`, a process opens a socket for it first."""
        self.trace = Trace(source=ns.name, packet=packet)
        flight = Flight(packet)
        if owner is None or self._connect(ns, flight, owner):
            self._run(("local_out", ns, flight))
        while self.pending:
            self._run(self.pending.popleft())
        return self.trace

    def _run(self, step) -> None:
        while step is not None:
            self.steps += 1
            if self.steps > MAX_STEPS:
                self._finish("dropped", "the walk exceeded its step limit")
                return
            name, *args = step
            try:
                step = getattr(self, "_" + name)(*args)
            except Stop:
                return

    # recording

    def _hop(self, ns: Namespace, flight: Flight, event: str, detail: str,
             after: Packet | None = None, **fields) -> Hop:
        hop = Hop(len(self.trace.hops) + 1, ns.name, event, detail, flight.packet,
                  after or flight.packet, role=flight.role, **fields)
        self.trace.hops.append(hop)
        return hop

    def _finish(self, verdict: str, reason: str, flight: Flight | None = None) -> None:
        """Set the outcome once, from the primary packet; later packets only add hops."""
        if flight is not None and flight.role != "packet":
            return
        if self.trace.reason:
            return
        self.trace.verdict, self.trace.reason = verdict, reason

    # sockets: the connect() that comes before the first packet

    def _connect(self, ns: Namespace, flight: Flight, owner: str) -> bool:
        """Run the cgroup's connect4 program, if any, then connect the socket where it
        says; False when the call fails and nothing is sent."""
        cookie = self.network.new_cookie()
        program = ns.cgroup.programs.get("connect4") if ns.cgroup is not None and \
            flight.packet.proto in ("tcp", "udp") else None
        if program is not None:
            verdict = program.run(SockContext(ns, "connect4", flight.packet, cookie,
                                              self.network.clock))
            self._bpf_hop(ns, flight, program, "cgroup/connect4", verdict)
            if verdict.action == "reject":
                self._finish("unreachable", f"connect() failed with {verdict.errno} "
                             f"({program.name} in {ns.name})", flight)
                return False
            flight.packet = verdict.packet
        pkt = flight.packet
        if pkt.proto == "icmp":
            ns.connect("icmp", pkt.src, pkt.icmp_id, pkt.dst, 0, owner, cookie)
        else:
            ns.connect(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, owner, cookie)
        return True

    # eBPF programs at tc hooks

    def _bpf_hop(self, ns: Namespace, flight: Flight, program, where: str, verdict: Verdict,
                 **fields) -> None:
        self._hop(ns, flight, "bpf", f"{program.name} ({where}) → {verdict.action}: "
                  f"{verdict.detail}", after=verdict.packet, program=program.label,
                  map_entry=verdict.entry, **fields)

    def _tc(self, ns: Namespace, dev: Device, direction: str, flight: Flight):
        """Run the program at `dev`'s tc hook: "pass" to go on, or the next step (None
        when the packet ends here)."""
        program = dev.tc.get(direction)
        if program is None:
            return "pass"
        verdict = program.run(TcContext(ns, dev, direction, flight.packet, flight.src_mac,
                                        self.network.clock))
        devs = {"dev_in": dev.name} if direction == "ingress" else {"dev_out": dev.name}
        if verdict.action == "redirect":
            devs["dev_out"] = verdict.redirect
        self._bpf_hop(ns, flight, program, f"tc {direction} of {dev.name}", verdict, **devs)
        flight.packet = verdict.packet
        if verdict.action == "pass":
            return "pass"
        if verdict.action == "redirect":
            return ("redirect", ns, ns.device(verdict.redirect), flight, verdict.dst_mac,
                    verdict.tunnel)
        if verdict.answer is not None:  # the program built an answer and sends it back out
            note = Flight(verdict.answer, role="error", src_mac=dev.mac,
                          dst_mac=flight.src_mac)
            self.pending.append(("wire", dev, note))
        self._finish("dropped", f"dropped by {program.name} on {dev.name} in {ns.name}",
                     flight)
        return None

    def _redirect(self, ns: Namespace, dev: Device, flight: Flight, mac: str,
                  remote: IPv4Address | None = None):
        """bpf_redirect(): straight out of `dev`, past routing and netfilter; into a VXLAN
        device in external mode, with the tunnel key the program set."""
        flight.src_mac, flight.dst_mac = dev.mac, mac
        if isinstance(dev, vxlan.Vxlan) and remote is not None:
            outer = vxlan.encapsulate(dev, flight.packet, remote)
            self._hop(ns, flight, "encapsulate", f"{dev.name} (external mode) takes the remote "
                      f"endpoint from the tunnel key: the frame is wrapped in VXLAN VNI "
                      f"{dev.vni} inside UDP {dev.local} → {remote}:{dev.dstport} "
                      f"({flight.packet.length} + {vxlan.OVERHEAD} = {outer.length} bytes)",
                      after=outer, dev_out=dev.name)
            return ("local_out", ns, Flight(outer, role=flight.role, mark=flight.mark,
                                            carried=flight))
        return self._egress(ns, dev, flight)

    def _egress(self, ns: Namespace, dev: Device, flight: Flight):
        step = self._tc(ns, dev, "egress", flight)
        return ("wire", dev, flight) if step == "pass" else step

    # locally generated packets

    def _local_out(self, ns: Namespace, flight: Flight):
        pkt = flight.packet
        result = ns.route_lookup(pkt.dst, pkt)
        if result is None or result.route.type in ("unreachable", "prohibit", "blackhole"):
            why = "no route to host" if result is None else f"a {result.route.type} route"
            self._hop(ns, flight, "route", f"route lookup for {pkt.dst}: {why}; "
                      "the send fails with 'Network is unreachable'",
                      route=result.route.text() if result else None)
            self._finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
            return None
        self._hop(ns, flight, "route", self._route_sentence(result, pkt.dst),
                  dev_out=result.dev, route=result.route.text())
        mtu = ns.device(result.dev).mtu
        if pkt.df and pkt.length > mtu:
            self._hop(ns, flight, "drop", f"{pkt.length} bytes with DF set do not fit "
                      f"{result.dev}'s MTU {mtu}: the send fails with 'Message too long' "
                      "and nothing leaves", dev_out=result.dev)
            self._finish("dropped", f"message too long for {result.dev} (mtu {mtu}) in "
                         f"{ns.name}", flight)
            return None
        if pkt.src == IPv4Address(0):
            flight.packet = pkt.with_(src=result.src)
        self._conntrack_in(ns, flight)
        before = flight.packet.dst
        self._hooks(ns, flight, "OUTPUT", None, result.dev)
        if flight.packet.dst != before:
            result = ns.route_lookup(flight.packet.dst, flight.packet)
            if result is None:
                self._hop(ns, flight, "route", f"re-route after NAT: no route to "
                          f"{flight.packet.dst}")
                self._finish("unreachable", f"no route to {flight.packet.dst}", flight)
                return None
            self._hop(ns, flight, "route", "destination changed by NAT, route again: "
                      + self._route_sentence(result, flight.packet.dst),
                      dev_out=result.dev, route=result.route.text())
        return ("post_routing", ns, flight, result, None)

    # arriving packets

    def _ip_rcv(self, ns: Namespace, dev: Device, flight: Flight):
        self._conntrack_in(ns, flight)
        self._hooks(ns, flight, "PREROUTING", dev.name, None)
        pkt = flight.packet
        result = ns.route_lookup(pkt.dst, pkt)
        if result is not None and result.route.type == "local":
            self._hop(ns, flight, "route", f"{pkt.dst} is an address of this namespace: "
                      "deliver locally", dev_in=dev.name, route=result.route.text())
            self._hooks(ns, flight, "INPUT", dev.name, None)
            if flight.ipvs_forward:
                return ("ipvs_xmit", ns, flight, dev.name)
            self._confirm(ns, flight)
            return ("deliver", ns, dev, flight)
        if result is not None and result.route.type == "broadcast":
            self._hop(ns, flight, "drop", "a broadcast address: not forwarded", dev_in=dev.name)
            self._finish("dropped", "sent to a broadcast address", flight)
            return None
        return ("forward", ns, dev, flight, result)

    def _forward(self, ns: Namespace, dev: Device, flight: Flight, result: RouteResult | None):
        pkt = flight.packet
        if ns.sysctl.get("net.ipv4.ip_forward") != "1":
            self._hop(ns, flight, "drop", f"{pkt.dst} is not local and net.ipv4.ip_forward=0: "
                      "this namespace does not route, the packet is silently dropped",
                      dev_in=dev.name)
            self._finish("dropped", f"ip_forward is off in {ns.name}", flight)
            return None
        if result is None or result.route.type in ("blackhole", "unreachable", "prohibit"):
            kind = "none" if result is None else result.route.type
            self._hop(ns, flight, "route", f"no usable route to {pkt.dst} ({kind})",
                      dev_in=dev.name, route=result.route.text() if result else None)
            if kind == "blackhole":
                self._finish("dropped", f"blackhole route in {ns.name}", flight)
                return None
            code = UNREACH_CODES.get(kind, NET_UNREACHABLE)
            self._icmp_error(ns, flight, ICMP_DEST_UNREACH, code)
            self._finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
            return None
        if pkt.ttl <= 1:
            self._hop(ns, flight, "drop", "TTL reached 1 before forwarding: the packet "
                      "expires here (a routing loop or too many hops)", dev_in=dev.name)
            self._icmp_error(ns, flight, ICMP_TIME_EXCEEDED, 0)
            self._finish("expired", f"TTL exceeded in {ns.name}", flight)
            return None
        mtu = ns.device(result.dev).mtu
        if pkt.df and pkt.length > mtu:
            self._hop(ns, flight, "drop", f"{pkt.length} bytes with DF set do not fit "
                      f"{result.dev}'s MTU {mtu}: the packet is dropped and the sender told "
                      "the size that fits", dev_in=dev.name, dev_out=result.dev,
                      route=result.route.text())
            self._icmp_error(ns, flight, ICMP_DEST_UNREACH, FRAG_NEEDED, mtu=mtu)
            self._finish("dropped", f"fragmentation needed: {pkt.length} bytes over "
                         f"{result.dev}'s MTU {mtu} in {ns.name}", flight)
            return None
        forwarded = pkt.with_(ttl=pkt.ttl - 1)
        self._hop(ns, flight, "forward", self._route_sentence(result, pkt.dst)
                  + f"; forward, TTL {pkt.ttl}→{pkt.ttl - 1}", after=forwarded,
                  dev_in=dev.name, dev_out=result.dev, route=result.route.text())
        flight.packet = forwarded
        send_redirect(self, ns, dev, flight, result)
        self._hooks(ns, flight, "FORWARD", dev.name, result.dev)
        return ("post_routing", ns, flight, result, dev.name)

    def _post_routing(self, ns: Namespace, flight: Flight, result: RouteResult,
                      in_dev: str | None):
        self._hooks(ns, flight, "POSTROUTING", in_dev, result.dev)
        self._confirm(ns, flight)
        self._fragment(ns, flight, ns.device(result.dev))
        nexthop = result.gateway or flight.packet.dst
        return ("xmit", ns, ns.device(result.dev), flight, nexthop)

    def _fragment(self, ns: Namespace, flight: Flight, dev: Device) -> None:
        """ip_finish_output: a packet over the device's MTU (DF clear) leaves in pieces."""
        pkt = flight.packet
        if pkt.length <= dev.mtu:
            return
        data = (dev.mtu - 20) // 8 * 8  # each fragment's payload is a multiple of 8 bytes
        count = -(-(pkt.length - 20) // data)
        first = pkt.with_(length=data + 20)
        self._hop(ns, flight, "fragment", f"{pkt.length} bytes exceed {dev.name}'s MTU "
                  f"{dev.mtu} and DF is clear: the kernel splits the packet into {count} "
                  f"fragments; the walk follows the first ({data + 20} bytes), the others take "
                  f"the same path and {pkt.dst} reassembles them", after=first,
                  dev_out=dev.name)
        flight.packet = first

    # link layer

    def _xmit(self, ns: Namespace, dev: Device, flight: Flight, nexthop: IPv4Address):
        if isinstance(dev, vxlan.Vxlan):
            return ("tunnel_xmit", ns, dev, flight, nexthop)
        if isinstance(dev, Loopback):
            self._hop(ns, flight, "xmit", "out through lo: the packet loops back into "
                      "this namespace", dev_out="lo")
            return ("ip_rcv", ns, dev, flight)
        answer = l2.resolve(ns, dev, nexthop)
        if answer is None:
            self._hop(ns, flight, "drop", f"ARP: no answer for who-has {nexthop} on {dev.name}; "
                      "the packet is dropped (host unreachable)", dev_out=dev.name)
            if not ns.is_local(flight.packet.src):  # a local sender just gets EHOSTUNREACH
                self._icmp_error(ns, flight, ICMP_DEST_UNREACH, HOST_UNREACHABLE)
            self._finish("unreachable", f"nobody answers ARP for {nexthop}", flight)
            return None
        mac, how = answer
        flight.src_mac, flight.dst_mac = dev.mac, mac
        self._hop(ns, flight, "xmit", f"send on {dev.name} to {nexthop} ({mac}; {how})",
                  dev_out=dev.name)
        return self._egress(ns, dev, flight)

    def _tunnel_xmit(self, ns: Namespace, dev: vxlan.Vxlan, flight: Flight,
                     nexthop: IPv4Address):
        """The VXLAN device: neighbour entry → inner MAC, forwarding entry → remote
        endpoint, then the frame leaves inside UDP through this namespace's own stack."""
        cached = ns.neighbours.get(nexthop)
        if cached is None or cached[1] != dev.name:
            self._hop(ns, flight, "drop", f"{dev.name}: no neighbour entry for {nexthop}, and "
                      "no forwarding entry to send an ARP request to: dropped",
                      dev_out=dev.name)
            self._finish("unreachable", f"no neighbour entry for {nexthop} on {dev.name}",
                         flight)
            return None
        mac = cached[0]
        remote = dev.fdb.get(mac)
        if remote is None:
            self._hop(ns, flight, "drop", f"{dev.name}: no forwarding entry for {mac}, so no "
                      "endpoint to send the frame to: dropped", dev_out=dev.name)
            self._finish("unreachable", f"no forwarding entry for {mac} on {dev.name}", flight)
            return None
        flight.src_mac, flight.dst_mac = dev.mac, mac
        outer = vxlan.encapsulate(dev, flight.packet, remote)
        self._hop(ns, flight, "encapsulate", f"{dev.name}: {nexthop} is {mac} (neighbour "
                  f"entry), whose endpoint is {remote} (forwarding entry); the frame is wrapped "
                  f"in VXLAN VNI {dev.vni} inside UDP {dev.local} → {remote}:{dev.dstport} "
                  f"({flight.packet.length} + {vxlan.OVERHEAD} = {outer.length} bytes)",
                  after=outer, dev_out=dev.name)
        # the tunnel's skb keeps the mark (same namespace) but not the conntrack reference
        carrier = Flight(outer, role=flight.role, mark=flight.mark, carried=flight)
        return ("local_out", ns, carrier)

    def _decapsulate(self, ns: Namespace, dev: vxlan.Vxlan, flight: Flight):
        outer = flight.packet
        if outer.vni != dev.vni or outer.payload is None:
            self._hop(ns, flight, "drop", f"udp port {outer.dport} is {dev.name}'s, but no "
                      f"VXLAN device here has VNI {outer.vni}: dropped", dev_in=dev.name)
            self._finish("dropped", f"unknown VNI {outer.vni} in {ns.name}", flight)
            return None
        inner = flight.carried or Flight(outer.payload, role=flight.role, dst_mac=dev.mac)
        inner.packet = outer.payload
        inner.mark, inner.tracked, inner.invalid = 0, None, False  # a new skb in this netns
        if dev.learning and inner.src_mac:
            dev.add_fdb(inner.src_mac, outer.src)
        self._hop(ns, flight, "decapsulate", f"udp port {outer.dport} belongs to {dev.name} "
                  f"(VXLAN VNI {dev.vni}): the outer headers from {outer.src} are stripped and "
                  f"the inner frame arrives on {dev.name}", after=inner.packet,
                  dev_in=dev.name)
        return ("rx", dev, inner)

    def _wire(self, dev: Device, flight: Flight):
        if isinstance(dev, Bridge):
            port = dev.forward_port(flight.dst_mac)
            how = "MAC table"
            if port is None:
                port, how = l2.flood_target(dev, None, flight.dst_mac), "unknown MAC, flooded"
            if port is None:
                self._hop(dev.namespace, flight, "drop", f"{dev.name}: no port leads to "
                          f"{flight.dst_mac}", dev_out=dev.name)
                self._finish("dropped", "bridge has no port for the destination MAC", flight)
                return None
            self._hop(dev.namespace, flight, "bridge", f"{dev.name} sends the frame out its "
                      f"port {port.name} ({how})", dev_in=dev.name, dev_out=port.name)
            dev = port
        receiver = l2.wire_receiver(dev, flight.dst_mac)
        if receiver is None:
            self._hop(dev.namespace, flight, "drop", f"no device on the wire of {dev.name} "
                      f"has MAC {flight.dst_mac}", dev_out=dev.name)
            self._finish("dropped", "frame not received", flight)
            return None
        if receiver.namespace is not dev.namespace:
            # crossing namespaces scrubs the skb's mark and conntrack reference
            flight.mark, flight.tracked, flight.invalid = 0, None, False
        return ("rx", receiver, flight)

    def _rx(self, dev: Device, flight: Flight):
        ns = dev.namespace
        step = self._tc(ns, dev, "ingress", flight)
        if step != "pass":
            return step
        if dev.master is not None:
            return ("bridge", dev.master, dev, flight)
        if dev.mac != flight.dst_mac:
            self._hop(ns, flight, "drop", f"frame for {flight.dst_mac} is not for {dev.name}",
                      dev_in=dev.name)
            self._finish("dropped", "frame addressed to another host", flight)
            return None
        self._hop(ns, flight, "recv", f"received on {dev.kind} {dev.name}", dev_in=dev.name)
        return ("ip_rcv", ns, dev, flight)

    def _bridge(self, bridge: Bridge, port: Device, flight: Flight):
        ns = bridge.namespace
        bridge.learn(flight.src_mac, port)
        if flight.dst_mac == bridge.mac:
            self._hop(ns, flight, "bridge", f"{port.name} is a port of {bridge.name}; the frame "
                      f"is for {bridge.name}'s own MAC, so it goes up to IP",
                      dev_in=port.name, dev_out=bridge.name)
            return ("ip_rcv", ns, bridge, flight)
        out = bridge.forward_port(flight.dst_mac)
        how = "MAC table"
        if out is None:
            out = l2.flood_target(bridge, port, flight.dst_mac)
            how = "unknown MAC, flooded; answered on"
        if out is None:
            self._hop(ns, flight, "drop", f"{bridge.name}: no port leads to {flight.dst_mac}",
                      dev_in=port.name)
            self._finish("dropped", "bridge has no port for the destination MAC", flight)
            return None
        if out is port and not port.hairpin:
            self._hop(ns, flight, "drop", f"{bridge.name}: destination is behind the port the "
                      "frame came in on and hairpin mode is off", dev_in=port.name)
            self._finish("dropped", "bridge will not send a frame back out its ingress port",
                         flight)
            return None
        hairpin = " (hairpin: back out the same port)" if out is port else ""
        self._hop(ns, flight, "bridge", f"{bridge.name} switches the frame {port.name} → "
                  f"{out.name} ({how} {out.name}){hairpin}", dev_in=port.name, dev_out=out.name)
        if ns.sysctl.get("net.bridge.bridge-nf-call-iptables") == "1":
            self._conntrack_in(ns, flight)
            self._hooks(ns, flight, "PREROUTING", bridge.name, None)
            self._hooks(ns, flight, "FORWARD", bridge.name, bridge.name)
            self._hooks(ns, flight, "POSTROUTING", None, bridge.name)
            self._confirm(ns, flight)
        return ("wire", out, flight)

    # local delivery

    def _deliver(self, ns: Namespace, dev: Device, flight: Flight):
        pkt = flight.packet
        tunnel = vxlan.receiver(ns, pkt)
        if tunnel is not None:
            return ("decapsulate", ns, tunnel, flight)
        if pkt.proto == "icmp":
            return self._deliver_icmp(ns, dev, flight)
        sock = ns.find_socket(pkt.proto, pkt.dst, pkt.dport, pkt.src, pkt.sport)
        flags = pkt.flag_set
        if sock is not None and (sock.remote is not None or pkt.proto == "udp" or "SYN" in flags
                                 and "ACK" not in flags):
            kind = "connected socket" if sock.remote else "listening socket"
            self._hop(ns, flight, "deliver", f"delivered to {sock.owner}'s {kind} "
                      f"{pkt.proto} {sock.address}:{sock.port}", dev_in=dev.name)
            if sock.remote is not None:
                self._socket_view(ns, flight, sock)
            self._deliver_done(ns, flight, sock.owner, sock.text())
            return None
        if pkt.proto == "udp":
            self._hop(ns, flight, "reject", f"nothing listens on udp port {pkt.dport}: the "
                      "kernel answers ICMP port unreachable", dev_in=dev.name)
            self._icmp_error(ns, flight, ICMP_DEST_UNREACH, PORT_UNREACHABLE)
        elif "RST" in flags:
            self._hop(ns, flight, "drop", "a reset for a connection this namespace does not "
                      "have: ignored", dev_in=dev.name)
            self._finish("dropped", "reset for an unknown connection", flight)
            return None
        else:
            what = "no socket is listening on" if "SYN" in flags and "ACK" not in flags else \
                "no connection matches"
            self._hop(ns, flight, "reject", f"{what} tcp port {pkt.dport}: the kernel answers "
                      "with a TCP reset", dev_in=dev.name)
            self._send_reset(ns, flight)
        self._finish("rejected", f"nothing listening on {pkt.proto} port {pkt.dport} "
                     f"in {ns.name}", flight)
        return None

    def _socket_view(self, ns: Namespace, flight: Flight, sock) -> None:
        """What the application reads about its peer, through the cgroup's getpeername4
        (TCP) or recvmsg4 (UDP) program when one is attached."""
        hook = "recvmsg4" if sock.proto == "udp" else "getpeername4"
        program = ns.cgroup.programs.get(hook) if ns.cgroup is not None else None
        if program is None:
            return
        verdict = program.run(SockContext(ns, hook, flight.packet, sock.cookie,
                                          self.network.clock, peer=sock.remote))
        if verdict.entry is not None:  # a socket no program translated has nothing to show
            self._bpf_hop(ns, flight, program, f"cgroup/{hook}", verdict)

    def _deliver_icmp(self, ns: Namespace, dev: Device, flight: Flight):
        pkt = flight.packet
        if pkt.icmp_type == ICMP_ECHO_REQUEST:
            self._hop(ns, flight, "deliver", "echo request answered by the kernel's ICMP "
                      "responder", dev_in=dev.name)
            self._deliver_done(ns, flight, "kernel", "icmp echo responder")
            return
        sock = ns.find_socket("icmp", pkt.dst, pkt.icmp_id, pkt.src, 0)
        if pkt.is_icmp_error and pkt.inner is not None:
            inner = pkt.inner
            sock = ns.find_socket(inner.proto, inner.src, inner.sport if inner.proto != "icmp"
                                  else inner.icmp_id, inner.dst,
                                  inner.dport if inner.proto != "icmp" else 0)
        owner = sock.owner if sock else "kernel"
        self._hop(ns, flight, "deliver", f"{pkt.summary()} handed to {owner}", dev_in=dev.name)
        self._deliver_done(ns, flight, owner, sock.text() if sock else "icmp")
        return

    def _deliver_done(self, ns: Namespace, flight: Flight, owner: str, socket: str) -> None:
        if flight.role == "packet" and not self.trace.reason:
            self.trace.verdict = "delivered"
            self.trace.reason = f"delivered in {ns.name}"
            self.trace.delivered_to = Delivery(ns.name, owner, socket)
            self.trace.delivered_packet = flight.packet

    # generated packets: ICMP errors and resets

    def _icmp_error(self, ns: Namespace, flight: Flight, icmp_type: int, code: int,
                    mtu: int = 0) -> None:
        pkt = flight.packet
        if pkt.is_icmp_error or flight.role == "error":
            return  # never an error about an error
        # an error about a packet for us comes from the address it was sent to
        route_back = ns.route_lookup(pkt.src)
        src = pkt.dst if ns.is_local(pkt.dst) else (route_back.src if route_back else None)
        if src is None:
            self._hop(ns, flight, "icmp", "an ICMP error would go back, but this namespace "
                      f"has no route to {pkt.src}: the error is lost")
            return
        # an ICMP error quotes at most what fits in 576 bytes (RFC 1812)
        error = Packet(src, pkt.src, "icmp", icmp_type=icmp_type, icmp_code=code,
                       inner=pkt, length=min(pkt.length + 28, 576), mtu=mtu)
        tracked = flight.tracked  # the error belongs to the flow, in the other direction
        related = Tracked(tracked.entry, 1 - tracked.direction, "RELATED") if tracked else None
        note = Flight(error, role="error", tracked=related)
        self._hop(ns, note, "icmp", f"the kernel sends {error.summary()}")
        self.pending.append(("local_out", ns, note))

    def _send_reset(self, ns: Namespace, flight: Flight) -> None:
        pkt = flight.packet
        flags = "RST,ACK" if "ACK" not in pkt.flag_set else "RST"
        reset = Packet(pkt.dst, pkt.src, "tcp", pkt.dport, pkt.sport, flags=flags, length=40)
        self.pending.append(("local_out", ns, Flight(reset, role="reset")))

    # netfilter and conntrack

    def _conntrack_in(self, ns: Namespace, flight: Flight) -> None:
        if not ns.tracks_connections:
            return
        if flight.tracked is not None or flight.invalid:
            return  # looped back through lo, or generated with its entry attached
        pkt = flight.packet
        found = ns.conntrack.lookup(pkt)
        if found is None and pkt.is_icmp_error and pkt.inner is not None:
            inner_found = ns.conntrack.lookup_related(pkt)
            if inner_found is not None:
                entry, direction = inner_found
                flight.tracked = Tracked(entry, direction, "RELATED")
                self._hop(ns, flight, "conntrack", "an ICMP error about a tracked flow: RELATED",
                          conntrack=entry.text())
                return
        if found is not None:
            entry, direction = found
            seen = "SEEN_REPLY" in entry.status
            state = "ESTABLISHED" if direction == REPLY or seen else "NEW"
            flight.tracked = Tracked(entry, direction, state)
            ns.conntrack.update_state(entry, direction, pkt)
            way = "reply" if direction == REPLY else "original"
            self._hop(ns, flight, "conntrack", f"conntrack: {state} ({way} direction of a "
                      "known flow)", conntrack=entry.text())
            return
        flags = pkt.flag_set
        if pkt.proto == "tcp" and ("RST" in flags or {"SYN", "ACK"} <= flags):
            self._hop(ns, flight, "conntrack", "conntrack: INVALID (a reply with no "
                      "connection behind it)")
            flight.invalid = True
            return
        entry = ns.conntrack.new(pkt)
        flight.tracked = Tracked(entry, ORIGINAL, "NEW")
        self._hop(ns, flight, "conntrack", "conntrack: NEW flow, the entry is confirmed when "
                  "the packet leaves the stack", conntrack=entry.original.text())

    def _confirm(self, ns: Namespace, flight: Flight) -> None:
        tracked = flight.tracked
        if tracked is None or tracked.entry.confirmed or tracked.state != "NEW":
            return
        ns.conntrack.confirm(tracked.entry, flight.packet)

    def _hooks(self, ns: Namespace, flight: Flight, hook: str, in_dev: str | None,
               out_dev: str | None) -> None:
        nf = ns.netfilter
        for table in HOOK_TABLES[hook]:
            if self._ipvs_hook(ns, flight, hook, table, in_dev, out_dev):
                return  # IPVS took the packet: the rest of LOCAL_IN never sees it
            if table == "nat":
                self._nat(ns, flight, hook, in_dev, out_dev)
                continue
            if not nf.has_rules(table, hook):
                continue
            meta = self._meta(ns, flight, in_dev, out_dev)
            verdict = nf.run_chain(table, hook, flight.packet, meta)
            flight.mark = meta.mark
            self._rule_hop(ns, flight, table, hook, verdict, in_dev, out_dev)
            if verdict.action == "DROP":
                send_fails(self, ns, flight, hook, in_dev)
                self._finish("dropped", f"dropped by {table}/{verdict.chain} in {ns.name}",
                             flight)
                raise Stop
            if verdict.action == "REJECT":
                self._reject(ns, flight, verdict.reject_with or "icmp-port-unreachable")
                send_fails(self, ns, flight, hook, in_dev)
                self._finish("rejected", f"rejected by {table}/{verdict.chain} in {ns.name}",
                             flight)
                raise Stop
        self._ipvs_hook(ns, flight, hook, None, in_dev, out_dev)

    def _meta(self, ns: Namespace, flight: Flight, in_dev, out_dev) -> PacketMeta:
        tracked = flight.tracked
        status = frozenset()
        if tracked is not None:  # what --ctstate SNAT/DNAT sees
            status = frozenset(shown for flag, shown in (("SRC_NAT", "SNAT"), ("DST_NAT", "DNAT"))
                               if flag in tracked.entry.status)
        return PacketMeta(in_dev=in_dev, out_dev=out_dev, mark=flight.mark,
                          ct_state="INVALID" if flight.invalid else tracked.state if tracked
                          else None, ct_status=status,
                          local_addresses=ns.local_addresses(), rng=self.network.rng,
                          recent=ns.netfilter.recent, now=self.network.clock,
                          ipsets=ns.ipsets)

    def _rule_hop(self, ns, flight, table, hook, verdict, in_dev, out_dev, after=None,
                  conntrack: str | None = None) -> None:
        decided = verdict.rule_text()
        who = f"rule {verdict.rule_index} of {verdict.chain}" if verdict.rule else \
            f"the {verdict.chain} policy"
        self._hop(ns, flight, "netfilter", f"{table} {hook}: {who} → {verdict.action}",
                  after=after, dev_in=in_dev, dev_out=out_dev, rule=decided, table=table,
                  chain=verdict.chain, rules_walked=verdict.rules_walked,
                  matched_rules=[text for _chain, _i, text in verdict.matched],
                  conntrack=conntrack)

    def _nat(self, ns: Namespace, flight: Flight, hook: str, in_dev, out_dev) -> None:
        tracked = flight.tracked
        if tracked is None:
            return
        manip = "DST" if hook in DST_HOOKS else "SRC"
        entry = tracked.entry
        before = flight.packet
        if tracked.state == "RELATED":
            after = related_rewrite(before, entry, tracked.direction, manip)
        elif manip in entry.nat_done or entry.confirmed:
            after = nat_rewrite(before, entry, tracked.direction, manip)
        else:
            self._nat_decide(ns, flight, hook, manip, in_dev, out_dev)
            return
        if after != before:
            what = "destination" if manip == "DST" else "source"
            # the hop records flight.packet as its before: rewrite only once it is recorded
            self._hop(ns, flight, "nat", f"conntrack rewrites the {what} back, as the entry "
                      "says (the nat table is not consulted again)", after=after,
                      conntrack=entry.text())
            flight.packet = after

    def _nat_decide(self, ns, flight, hook, manip, in_dev, out_dev) -> None:
        entry = flight.tracked.entry
        nf = ns.netfilter
        entry.nat_done.add(manip)
        if not nf.has_rules("nat", hook):
            return
        pkt = flight.packet
        meta = self._meta(ns, flight, in_dev, out_dev)
        verdict = nf.run_chain("nat", hook, pkt, meta)
        flight.mark = meta.mark
        after = pkt
        if verdict.action in ("DNAT", "SNAT", "MASQUERADE"):
            address, port = verdict.to_address, verdict.to_port
            if verdict.action == "MASQUERADE":
                address = self._masquerade_address(ns, out_dev, pkt)
            if manip == "SRC":
                port = self._free_source_port(ns, entry, address, port, verdict.random_fully)
            ns.conntrack.bind_nat(entry, manip, address, port)
            after = nat_rewrite(pkt, entry, ORIGINAL, manip)
        binding = entry.text() if after != pkt else None  # the entry now holds the NAT
        self._rule_hop(ns, flight, "nat", hook, verdict, in_dev, out_dev, after=after,
                       conntrack=binding)
        flight.packet = after

    @staticmethod
    def _masquerade_address(ns: Namespace, out_dev: str, pkt: Packet) -> IPv4Address:
        """The address the kernel would pick as source on the way out of `out_dev`."""
        result = ns.route_lookup(pkt.dst)
        if result is not None and result.dev == out_dev and result.src is not None:
            return result.src
        return ns.primary_address(out_dev)

    def _free_source_port(self, ns, entry, address, port, random_fully) -> int | None:
        """Keep the source port unless another flow already owns the translated tuple."""
        reply = entry.reply
        wanted = port if port is not None else reply.dport
        if random_fully and entry.original.proto != "icmp":
            wanted = self.network.rng.randint(1024, 65535)
        for _ in range(64):
            candidate = Tuple(reply.proto, reply.src, reply.sport, address, wanted)
            if not ns.conntrack.is_taken(candidate, entry):
                return wanted
            wanted = self.network.rng.randint(1024, 65535)
        return wanted

    def _reject(self, ns: Namespace, flight: Flight, reject_with: str) -> None:
        if reject_with == "tcp-reset" and flight.packet.proto == "tcp":
            self._send_reset(ns, flight)
            return
        self._icmp_error(ns, flight, ICMP_DEST_UNREACH,
                         REJECT_CODES.get(reject_with, PORT_UNREACHABLE))

    @staticmethod
    def _route_sentence(result: RouteResult, dst: IPv4Address) -> str:
        route = result.route
        if route.type == "local":
            return f"{dst} is local"
        if route.nexthops:
            return (f"{dst} matches a multipath route to {route.prefix}: the flow's hash picks "
                    f"next hop {result.gateway} on {result.dev} (of {len(route.nexthops)})")
        if result.gateway is not None:
            return f"{dst} matches {route.prefix}: next hop {result.gateway} on {result.dev}"
        return f"{dst} matches {route.prefix}: directly on {result.dev}"


def echo_reply_for(request: Packet) -> Packet:
    return Packet(request.dst, request.src, "icmp", icmp_type=ICMP_ECHO_REPLY,
                  icmp_id=request.icmp_id, length=request.length)
