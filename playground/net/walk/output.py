"""Locally generated packets: the socket's connect(), route lookup, LOCAL_OUT, POSTROUTING."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.bpf.program import SockContext
from playground.net.walk.context import END, Flight, Step, Walk, stage

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace, RouteResult

UNUSABLE = ("unreachable", "prohibit", "blackhole")


def connect(walk: Walk, ns: Namespace, flight: Flight, owner: str) -> bool:
    """Run the cgroup's connect4 program, if any, then connect the socket where it says;
    False when the call fails and nothing is sent."""
    network = walk.network
    cookie = network.new_cookie()
    program = ns.cgroup.programs.get("connect4") if ns.cgroup is not None and \
        flight.packet.proto in ("tcp", "udp") else None
    if program is not None:
        verdict = program.run(SockContext(ns, "connect4", flight.packet, cookie,
                                          network.clock))
        walk.bpf_hop(ns, flight, program, "cgroup/connect4", verdict)
        if verdict.action == "reject":
            walk.finish("unreachable", f"connect() failed with {verdict.errno} "
                        f"({program.name} in {ns.name})", flight)
            return False
        flight.packet = verdict.packet
    pkt = flight.packet
    if pkt.proto == "icmp":
        ns.connect("icmp", pkt.src, pkt.icmp_id, pkt.dst, 0, owner, cookie)
    else:
        ns.connect(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, owner, cookie)
    return True


@stage
def local_out(walk: Walk, ns: Namespace, flight: Flight) -> Step:
    pkt = flight.packet
    result = ns.route_lookup(pkt.dst, pkt)
    if result is None or result.route.type in UNUSABLE:
        why = "no route to host" if result is None else f"a {result.route.type} route"
        walk.hop(ns, flight, "route", f"route lookup for {pkt.dst}: {why}; "
                 "the send fails with 'Network is unreachable'",
                 route=result.route.text() if result else None)
        walk.finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
        return END
    walk.hop(ns, flight, "route", walk.route_sentence(result, pkt.dst),
             dev_out=result.dev, route=result.route.text())
    mtu = ns.device(result.dev).mtu
    if pkt.df and pkt.length > mtu:
        walk.hop(ns, flight, "drop", f"{pkt.length} bytes with DF set do not fit "
                 f"{result.dev}'s MTU {mtu}: the send fails with 'Message too long' "
                 "and nothing leaves", dev_out=result.dev)
        walk.finish("dropped", f"message too long for {result.dev} (mtu {mtu}) in "
                    f"{ns.name}", flight)
        return END
    if pkt.src == IPv4Address(0):
        flight.packet = pkt.with_(src=result.src)
    before = flight.packet.dst
    step = walk.hooks(ns, flight, "OUTPUT", None, result.dev)
    if step is not None:
        return step
    if flight.packet.dst != before:
        result = ns.route_lookup(flight.packet.dst, flight.packet)
        if result is None:
            walk.hop(ns, flight, "route", f"re-route after NAT: no route to "
                     f"{flight.packet.dst}")
            walk.finish("unreachable", f"no route to {flight.packet.dst}", flight)
            return END
        walk.hop(ns, flight, "route", "destination changed by NAT, route again: "
                 + walk.route_sentence(result, flight.packet.dst),
                 dev_out=result.dev, route=result.route.text())
        if _loopback_may_not_leave(ns, flight.packet.src, result.dev):
            walk.hop(ns, flight, "drop", f"the source {flight.packet.src} is a loopback "
                     f"address and {result.dev} is not the loopback device: without "
                     f"net.ipv4.conf.{result.dev}.route_localnet=1 (or all) the kernel "
                     "refuses the route (EINVAL) and drops the packet", dev_out=result.dev)
            walk.finish("dropped", f"loopback source {flight.packet.src} may not leave on "
                        f"{result.dev} in {ns.name} (route_localnet=0)", flight)
            return END
    return Step("post_routing", ns, flight, result, None)


def _loopback_may_not_leave(ns: Namespace, src: IPv4Address, dev: str) -> bool:
    """__mkroute_output: a 127/8 source leaves a non-loopback device only with route_localnet
    set on that device or on all."""
    if not src.is_loopback or ns.device(dev).kind == "loopback":
        return False
    return "1" not in (ns.sysctl.get("net.ipv4.conf.all.route_localnet", "0"),
                       ns.sysctl.get(f"net.ipv4.conf.{dev}.route_localnet", "0"))


@stage
def post_routing(walk: Walk, ns: Namespace, flight: Flight, result: RouteResult,
                 in_dev: str | None) -> Step:
    step = walk.hooks(ns, flight, "POSTROUTING", in_dev, result.dev)
    if step is not None:
        return step
    dev = ns.device(result.dev)
    _fragment(walk, ns, flight, dev)
    return Step("xmit", ns, dev, flight, result.gateway or flight.packet.dst)


def _fragment(walk: Walk, ns: Namespace, flight: Flight, dev: Device) -> None:
    """ip_finish_output: a packet over the device's MTU (DF clear) leaves in pieces."""
    pkt = flight.packet
    if pkt.length <= dev.mtu:
        return
    data = (dev.mtu - 20) // 8 * 8  # each fragment's payload is a multiple of 8 bytes
    count = -(-(pkt.length - 20) // data)
    first = pkt.with_(length=data + 20)
    walk.hop(ns, flight, "fragment", f"{pkt.length} bytes exceed {dev.name}'s MTU "
             f"{dev.mtu} and DF is clear: the kernel splits the packet into {count} "
             f"fragments; the walk follows the first ({data + 20} bytes), the others take "
             f"the same path and {pkt.dst} reassembles them", after=first,
             dev_out=dev.name)
    flight.packet = first
