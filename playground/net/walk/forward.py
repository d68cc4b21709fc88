"""Forwarding (ip_forward): the checks a router makes, the TTL, then FORWARD and POSTROUTING."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.icmp_redirect import nat_drops, redirect_for
from playground.net.packet import (
    ADMIN_PROHIBITED,
    FRAG_NEEDED,
    HOST_UNREACHABLE,
    ICMP_DEST_UNREACH,
    ICMP_TIME_EXCEEDED,
    NET_UNREACHABLE,
)
from playground.net.walk.context import END, Flight, Step, Tracked, Walk, stage

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace, RouteResult

UNREACH_CODES = {"unreachable": HOST_UNREACHABLE, "prohibit": ADMIN_PROHIBITED}


@stage
def forward(walk: Walk, ns: Namespace, dev: Device, flight: Flight,
            result: RouteResult | None) -> Step:
    pkt = flight.packet
    if ns.sysctl.get("net.ipv4.ip_forward") != "1":
        walk.hop(ns, flight, "drop", f"{pkt.dst} is not local and net.ipv4.ip_forward=0: "
                 "this namespace does not route, the packet is silently dropped",
                 dev_in=dev.name)
        walk.finish("dropped", f"ip_forward is off in {ns.name}", flight)
        return END
    if result is None or result.route.type in ("blackhole", "unreachable", "prohibit"):
        kind = "none" if result is None else result.route.type
        walk.hop(ns, flight, "route", f"no usable route to {pkt.dst} ({kind})",
                 dev_in=dev.name, route=result.route.text() if result else None)
        if kind == "blackhole":
            walk.finish("dropped", f"blackhole route in {ns.name}", flight)
            return END
        walk.finish("unreachable", f"no route to {pkt.dst} in {ns.name}", flight)
        return Step("icmp_error", ns, flight, ICMP_DEST_UNREACH,
                    UNREACH_CODES.get(kind, NET_UNREACHABLE))
    if pkt.ttl <= 1:
        walk.hop(ns, flight, "drop", "TTL reached 1 before forwarding: the packet "
                 "expires here (a routing loop or too many hops)", dev_in=dev.name)
        walk.finish("expired", f"TTL exceeded in {ns.name}", flight)
        return Step("icmp_error", ns, flight, ICMP_TIME_EXCEEDED, 0)
    mtu = ns.device(result.dev).mtu
    if pkt.df and pkt.length > mtu:
        walk.hop(ns, flight, "drop", f"{pkt.length} bytes with DF set do not fit "
                 f"{result.dev}'s MTU {mtu}: the packet is dropped and the sender told "
                 "the size that fits", dev_in=dev.name, dev_out=result.dev,
                 route=result.route.text())
        walk.finish("dropped", f"fragmentation needed: {pkt.length} bytes over "
                    f"{result.dev}'s MTU {mtu} in {ns.name}", flight)
        return Step("icmp_error", ns, flight, ICMP_DEST_UNREACH, FRAG_NEEDED, mtu)
    forwarded = pkt.with_(ttl=pkt.ttl - 1)
    walk.hop(ns, flight, "forward", walk.route_sentence(result, pkt.dst)
             + f"; forward, TTL {pkt.ttl}→{pkt.ttl - 1}", after=forwarded,
             dev_in=dev.name, dev_out=result.dev, route=result.route.text())
    flight.packet = forwarded
    send_redirect(walk, ns, dev, flight, result)
    step = walk.hooks(ns, flight, "FORWARD", dev.name, result.dev)
    if step is not None:
        return step
    return Step("post_routing", ns, flight, result, dev.name)


def send_redirect(walk: Walk, ns: Namespace, dev: Device, flight: Flight,
                  result: RouteResult) -> None:
    """ip_forward's notice to the sender, after the TTL and before FORWARD: the redirect,
    if the kernel sends one, as a hop of its own; then NAT's drop (decided now, as the
    kernel's nat OUTPUT sees the flow at this moment) or its walk back to the sender."""
    redirect = redirect_for(ns, dev.name, result, flight.packet)
    if redirect is None:
        return
    tracked = flight.tracked  # icmp_send attaches the flow's entry, in the other direction
    related = Tracked(tracked.entry, 1 - tracked.direction, "RELATED") if tracked else None
    note = Flight(redirect, role="error", tracked=related)
    walk.hop(ns, note, "icmp", f"the packet goes back out {dev.name}, the device it came in "
             f"on, to a sender on that link (send_redirects is on): the kernel sends "
             f"{redirect.summary()}", dev_in=dev.name, dev_out=dev.name)
    if related is not None and nat_drops(related.entry):
        walk.hop(ns, note, "drop", "nat OUTPUT drops the redirect: it is about a flow "
                 "conntrack has NATed or not finished NATing (a redirect would name an "
                 "address the sender never used); the sender never sees it",
                 conntrack=related.entry.text())
        return
    walk.pending.append(Step("local_out", ns, note))
