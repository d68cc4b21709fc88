"""Arriving packets: PREROUTING, the routing decision, LOCAL_IN and the socket that takes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net import vxlan
from playground.net.bpf.program import SockContext
from playground.net.packet import ICMP_DEST_UNREACH, PORT_UNREACHABLE
from playground.net.walk.context import END, Flight, Step, Walk, stage

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace


@stage
def ip_rcv(walk: Walk, ns: Namespace, dev: Device, flight: Flight) -> Step:
    step = walk.hooks(ns, flight, "PREROUTING", dev.name, None)
    if step is not None:
        return step
    pkt = flight.packet
    result = ns.route_lookup(pkt.dst, pkt)
    if result is not None and result.route.type == "local":
        walk.hop(ns, flight, "route", f"{pkt.dst} is an address of this namespace: "
                 "deliver locally", dev_in=dev.name, route=result.route.text())
        step = walk.hooks(ns, flight, "INPUT", dev.name, None)
        if step is not None:
            return step
        return Step("deliver", ns, dev, flight)
    if result is not None and result.route.type == "broadcast":
        walk.hop(ns, flight, "drop", "a broadcast address: not forwarded", dev_in=dev.name)
        walk.finish("dropped", "sent to a broadcast address", flight)
        return END
    return Step("forward", ns, dev, flight, result)


@stage
def deliver(walk: Walk, ns: Namespace, dev: Device, flight: Flight) -> Step:
    pkt = flight.packet
    tunnel = vxlan.receiver(ns, pkt)
    if tunnel is not None:
        return Step("decapsulate", ns, tunnel, flight)
    if pkt.proto == "icmp":
        return Step("deliver_icmp", ns, dev, flight)
    sock = ns.find_socket(pkt.proto, pkt.dst, pkt.dport, pkt.src, pkt.sport)
    flags = pkt.flag_set
    if sock is not None and (sock.remote is not None or pkt.proto in ("udp", "sctp")
                             or "SYN" in flags and "ACK" not in flags):
        kind = "connected socket" if sock.remote else "listening socket"
        walk.hop(ns, flight, "deliver", f"delivered to {sock.owner}'s {kind} "
                 f"{pkt.proto} {sock.address}:{sock.port}", dev_in=dev.name)
        if sock.remote is not None:
            _socket_view(walk, ns, flight, sock)
        walk.delivered(ns, flight, sock.owner, sock.text())
        return END
    if pkt.proto == "udp":
        walk.hop(ns, flight, "reject", f"nothing listens on udp port {pkt.dport}: the "
                 "kernel answers ICMP port unreachable", dev_in=dev.name)
        answer = Step("icmp_error", ns, flight, ICMP_DEST_UNREACH, PORT_UNREACHABLE)
    elif pkt.proto == "sctp":
        if "INIT" not in flags:
            walk.hop(ns, flight, "drop", "an SCTP packet for no association this namespace "
                     "has: ignored", dev_in=dev.name)
            walk.finish("dropped", "SCTP packet for an unknown association", flight)
            return END
        walk.hop(ns, flight, "reject", f"no socket is listening on sctp port {pkt.dport}: "
                 "the kernel answers with an SCTP ABORT", dev_in=dev.name)
        answer = Step("send_reset", ns, flight)
    elif "RST" in flags:
        walk.hop(ns, flight, "drop", "a reset for a connection this namespace does not "
                 "have: ignored", dev_in=dev.name)
        walk.finish("dropped", "reset for an unknown connection", flight)
        return END
    else:
        what = "no socket is listening on" if "SYN" in flags and "ACK" not in flags else \
            "no connection matches"
        walk.hop(ns, flight, "reject", f"{what} tcp port {pkt.dport}: the kernel answers "
                 "with a TCP reset", dev_in=dev.name)
        answer = Step("send_reset", ns, flight)
    walk.finish("rejected", f"nothing listening on {pkt.proto} port {pkt.dport} "
                f"in {ns.name}", flight)
    return answer


def _socket_view(walk: Walk, ns: Namespace, flight: Flight, sock) -> None:
    """What the application reads about its peer, through the cgroup's getpeername4
    (TCP) or recvmsg4 (UDP) program when one is attached."""
    hook = "recvmsg4" if sock.proto == "udp" else "getpeername4"
    program = ns.cgroup.programs.get(hook) if ns.cgroup is not None else None
    if program is None:
        return
    verdict = program.run(SockContext(ns, hook, flight.packet, sock.cookie,
                                      walk.network.clock, peer=sock.remote))
    if verdict.entry is not None:  # a socket no program translated has nothing to show
        walk.bpf_hop(ns, flight, program, f"cgroup/{hook}", verdict)
