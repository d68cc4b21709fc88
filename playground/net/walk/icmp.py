"""What the kernel says back: ICMP errors, TCP resets, REJECT, and ICMP that arrives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.packet import (
    ADMIN_PROHIBITED,
    HOST_UNREACHABLE,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    NET_UNREACHABLE,
    PORT_UNREACHABLE,
    Packet,
)
from playground.net.walk.context import END, Flight, Step, Tracked, Walk, stage

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace

REJECT_CODES = {
    "icmp-port-unreachable": PORT_UNREACHABLE,
    "icmp-net-unreachable": NET_UNREACHABLE,
    "icmp-host-unreachable": HOST_UNREACHABLE,
    "icmp-admin-prohibited": ADMIN_PROHIBITED,
    "icmp-host-prohibited": 10,
    "icmp-net-prohibited": 9,
}


@stage
def icmp_error(walk: Walk, ns: Namespace, flight: Flight, icmp_type: int, code: int,
               mtu: int = 0) -> Step:
    """icmp_send: an error about `flight`'s packet goes back to its sender (walked later)."""
    pkt = flight.packet
    if pkt.is_icmp_error or flight.role == "error":
        return END  # never an error about an error
    # an error about a packet for us comes from the address it was sent to
    route_back = ns.route_lookup(pkt.src)
    src = pkt.dst if ns.is_local(pkt.dst) else (route_back.src if route_back else None)
    if src is None:
        walk.hop(ns, flight, "icmp", "an ICMP error would go back, but this namespace "
                 f"has no route to {pkt.src}: the error is lost")
        return END
    # an ICMP error quotes at most what fits in 576 bytes (RFC 1812)
    error = Packet(src, pkt.src, "icmp", icmp_type=icmp_type, icmp_code=code,
                   inner=pkt, length=min(pkt.length + 28, 576), mtu=mtu)
    tracked = flight.tracked  # the error belongs to the flow, in the other direction
    related = Tracked(tracked.entry, 1 - tracked.direction, "RELATED") if tracked else None
    note = Flight(error, role="error", tracked=related)
    walk.hop(ns, note, "icmp", f"the kernel sends {error.summary()}")
    walk.pending.append(Step("local_out", ns, note))
    return END


@stage
def send_reset(walk: Walk, ns: Namespace, flight: Flight) -> Step:
    pkt = flight.packet
    if pkt.proto == "sctp":   # the out-of-the-blue answer (RFC 9260 8.4): an ABORT chunk
        reset = Packet(pkt.dst, pkt.src, "sctp", pkt.dport, pkt.sport, flags="ABORT",
                       length=36)
        walk.pending.append(Step("local_out", ns, Flight(reset, role="reset")))
        return END
    flags = "RST,ACK" if "ACK" not in pkt.flag_set else "RST"
    reset = Packet(pkt.dst, pkt.src, "tcp", pkt.dport, pkt.sport, flags=flags, length=40)
    walk.pending.append(Step("local_out", ns, Flight(reset, role="reset")))
    return END


@stage
def reject(walk: Walk, ns: Namespace, flight: Flight, reject_with: str) -> Step:
    """The REJECT target's answer: a reset or the ICMP error it was told to send."""
    if reject_with == "tcp-reset" and flight.packet.proto == "tcp":
        return Step("send_reset", ns, flight)
    return Step("icmp_error", ns, flight, ICMP_DEST_UNREACH,
                REJECT_CODES.get(reject_with, PORT_UNREACHABLE))


@stage
def deliver_icmp(walk: Walk, ns: Namespace, dev: Device, flight: Flight) -> Step:
    pkt = flight.packet
    if pkt.icmp_type == ICMP_ECHO_REQUEST:
        walk.hop(ns, flight, "deliver", "echo request answered by the kernel's ICMP "
                 "responder", dev_in=dev.name)
        walk.delivered(ns, flight, "kernel", "icmp echo responder")
        return END
    sock = ns.find_socket("icmp", pkt.dst, pkt.icmp_id, pkt.src, 0)
    if pkt.is_icmp_error and pkt.inner is not None:
        inner = pkt.inner
        sock = ns.find_socket(inner.proto, inner.src, inner.sport if inner.proto != "icmp"
                              else inner.icmp_id, inner.dst,
                              inner.dport if inner.proto != "icmp" else 0)
    owner = sock.owner if sock else "kernel"
    walk.hop(ns, flight, "deliver", f"{pkt.summary()} handed to {owner}", dev_in=dev.name)
    walk.delivered(ns, flight, owner, sock.text() if sock else "icmp")
    return END


def echo_reply_for(request: Packet) -> Packet:
    return Packet(request.dst, request.src, "icmp", icmp_type=ICMP_ECHO_REPLY,
                  icmp_id=request.icmp_id, length=request.length)
