"""VXLAN: wrapping a frame for a remote endpoint, unwrapping one that arrives, and
bpf_redirect() (which may hand a frame straight to a tunnel device)."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net import vxlan
from playground.net.walk.context import END, Flight, Step, Walk, stage

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace


def _carrier(flight: Flight, outer) -> Flight:
    """The outer packet's skb: it keeps the mark (same namespace), not the conntrack entry."""
    return Flight(outer, role=flight.role, mark=flight.mark, carried=flight)


@stage
def redirect(walk: Walk, ns: Namespace, dev: Device, flight: Flight, mac: str,
             remote: IPv4Address | None = None, tunnel_id: int | None = None) -> Step:
    """bpf_redirect(): straight out of `dev`, past routing and netfilter; into a VXLAN
    device in external mode, with the tunnel key the program set."""
    flight.src_mac, flight.dst_mac = dev.mac, mac
    if isinstance(dev, vxlan.Vxlan) and remote is not None:
        vni = dev.vni if tunnel_id is None or not dev.external else tunnel_id
        outer = vxlan.encapsulate(dev, flight.packet, remote, vni)
        key = f"and the VNI {vni} " if dev.external and tunnel_id is not None else ""
        walk.hop(ns, flight, "encapsulate", f"{dev.name} (external mode) takes the remote "
                 f"endpoint {key}from the tunnel key: the frame is wrapped in VXLAN VNI "
                 f"{vni} inside UDP {dev.local} → {remote}:{dev.dstport} "
                 f"({flight.packet.length} + {vxlan.OVERHEAD} = {outer.length} bytes)",
                 after=outer, dev_out=dev.name)
        return Step("local_out", ns, _carrier(flight, outer))
    return Step("egress", ns, dev, flight)


@stage
def tunnel_xmit(walk: Walk, ns: Namespace, dev: vxlan.Vxlan, flight: Flight,
                nexthop: IPv4Address) -> Step:
    """The VXLAN device: neighbour entry → inner MAC, forwarding entry → remote
    endpoint, then the frame leaves inside UDP through this namespace's own stack."""
    cached = ns.neighbours.get(nexthop)
    if cached is None or cached[1] != dev.name:
        walk.hop(ns, flight, "drop", f"{dev.name}: no neighbour entry for {nexthop}, and "
                 "no forwarding entry to send an ARP request to: dropped", dev_out=dev.name)
        walk.finish("unreachable", f"no neighbour entry for {nexthop} on {dev.name}", flight)
        return END
    mac = cached[0]
    remote = dev.fdb.get(mac)
    if remote is None:
        walk.hop(ns, flight, "drop", f"{dev.name}: no forwarding entry for {mac}, so no "
                 "endpoint to send the frame to: dropped", dev_out=dev.name)
        walk.finish("unreachable", f"no forwarding entry for {mac} on {dev.name}", flight)
        return END
    flight.src_mac, flight.dst_mac = dev.mac, mac
    outer = vxlan.encapsulate(dev, flight.packet, remote)
    walk.hop(ns, flight, "encapsulate", f"{dev.name}: {nexthop} is {mac} (neighbour "
             f"entry), whose endpoint is {remote} (forwarding entry); the frame is wrapped "
             f"in VXLAN VNI {dev.vni} inside UDP {dev.local} → {remote}:{dev.dstport} "
             f"({flight.packet.length} + {vxlan.OVERHEAD} = {outer.length} bytes)",
             after=outer, dev_out=dev.name)
    return Step("local_out", ns, _carrier(flight, outer))


@stage
def decapsulate(walk: Walk, ns: Namespace, dev: vxlan.Vxlan, flight: Flight) -> Step:
    outer = flight.packet
    if (outer.vni != dev.vni and not dev.external) or outer.payload is None:
        walk.hop(ns, flight, "drop", f"udp port {outer.dport} is {dev.name}'s, but no "
                 f"VXLAN device here has VNI {outer.vni}: dropped", dev_in=dev.name)
        walk.finish("dropped", f"unknown VNI {outer.vni} in {ns.name}", flight)
        return END
    inner = flight.carried or Flight(outer.payload, role=flight.role, dst_mac=dev.mac)
    inner.packet = outer.payload
    inner.scrub()  # a new skb in this namespace
    if dev.learning and inner.src_mac:
        dev.add_fdb(inner.src_mac, outer.src)
    vni = f"VXLAN VNI {dev.vni}"
    if dev.external:  # collect metadata: the VNI stays on the skb as its tunnel key's id
        inner.tunnel_id = outer.vni
        vni = f"external mode; VNI {outer.vni} is kept as the tunnel key's id"
    walk.hop(ns, flight, "decapsulate", f"udp port {outer.dport} belongs to {dev.name} "
             f"({vni}): the outer headers from {outer.src} are stripped and "
             f"the inner frame arrives on {dev.name}", after=inner.packet, dev_in=dev.name)
    return Step("rx", dev, inner)
