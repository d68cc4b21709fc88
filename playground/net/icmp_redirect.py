"""ICMP redirects: a router that sends a packet back out of the device it came in on tells
the sender there is a better first hop, as Linux's forwarding path does.

The kernel's rules (net/ipv4/route.c, ip_forward.c): __mkroute_input marks the packet when
it leaves by the device it arrived on, send_redirects is on for that device (conf.all or
the device's own), and fib_validate_source finds the way back to the sender on that device
without a gateway; unless shared_media is on (the default), the sender and the gateway
must also be on one of the device's subnets. ip_forward then, after lowering the TTL and
before the FORWARD hook, has ip_rt_send_redirect send type 5 code 1 (host) naming the
route's gateway, or the destination itself when the route has none.

The redirect carries the flow's conntrack entry (icmp_send attaches it, RELATED), and
NAT at OUTPUT drops a redirect whose flow it has rewritten or not yet finished with
(nf_nat_icmp_reply_translation): a Service's hairpin makes one, but it never leaves.
The forward step (walk/forward.py) asks these rules and walks what they decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.packet import ICMP_REDIRECT, REDIRECT_HOST, Packet

if TYPE_CHECKING:
    from ipaddress import IPv4Address

    from playground.net.conntrack import Entry
    from playground.net.netns import Namespace, RouteResult


def redirect_for(ns: Namespace, in_dev: str, result: RouteResult,
                 packet: Packet) -> Packet | None:
    """The redirect `ns` sends about `packet` (as forwarded: TTL lowered) arriving on
    `in_dev` and routed by `result`, or None when it sends none."""
    if result.dev != in_dev or packet.is_icmp_error:  # never an error about an error
        return None
    if not _conf(ns, "send_redirects", in_dev):
        return None
    if not _direct_way_back(ns, in_dev, packet.src):
        return None
    if not _conf(ns, "shared_media", in_dev) and not _on_link(ns, in_dev, packet.src,
                                                               result.gateway):
        return None
    route_back = ns.route_lookup(packet.src)
    if route_back is None or route_back.src is None:
        return None
    return Packet(route_back.src, packet.src, "icmp", icmp_type=ICMP_REDIRECT,
                  icmp_code=REDIRECT_HOST, inner=packet, length=min(packet.length + 28, 576),
                  gateway=result.gateway or packet.dst)


def nat_drops(entry: Entry) -> bool:
    """A redirect about this flow dies at nat OUTPUT: its NAT is not done both ways yet (a
    first packet, at FORWARD), or it rewrote an address (a redirect would name the wrong one)."""
    done = entry.confirmed or {"DST", "SRC"} <= entry.nat_done
    return not done or bool(entry.status & {"DST_NAT", "SRC_NAT"})


def _conf(ns: Namespace, key: str, dev: str) -> bool:
    """IN_DEV_ORCONF: on when conf.all or the device's own says so (both 1 unless set)."""
    return "1" in (ns.sysctl.get(f"net.ipv4.conf.all.{key}", "1"),
                   ns.sysctl.get(f"net.ipv4.conf.{dev}.{key}", "1"))


def _direct_way_back(ns: Namespace, dev: str, src: IPv4Address) -> bool:
    """fib_validate_source's positive answer: the best route to `src` through `dev` has
    no gateway (its next hop's scope is host)."""
    if ns.is_local(src):
        return False  # a martian source: the kernel drops the packet anyway
    best = ns.route_lookup(src)
    if best is not None and best.table == "main" and best.dev == dev:
        return best.route.type == "unicast" and best.gateway is None
    if not any(address.dev == dev for address in ns.addresses):
        return False
    # the lookup again, limited to routes through `dev`, as the kernel's second try is
    found = [route for route in ns.main.routes() if route.dev == dev and src in route.prefix]
    if not found:
        return False
    route = max(found, key=lambda r: (r.prefix.prefixlen, -r.metric))
    return route.type == "unicast" and route.via is None and not route.nexthops


def _on_link(ns: Namespace, dev: str, src: IPv4Address, gateway: IPv4Address | None) -> bool:
    """inet_addr_onlink: one of the device's subnets holds the sender (and the gateway)."""
    for address in ns.addresses:
        network = address.interface.network
        if address.dev == dev and src in network and (gateway is None or gateway in network):
            return True
    return False
