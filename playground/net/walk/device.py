"""The link layer: neighbour resolution, tc programs, the wire, receiving and bridging."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net import l2, vxlan
from playground.net.bpf.program import TcContext
from playground.net.link import Bridge, Device, Loopback
from playground.net.packet import HOST_UNREACHABLE, ICMP_DEST_UNREACH
from playground.net.walk.context import END, Flight, Step, Walk, stage

if TYPE_CHECKING:
    from playground.net.netns import Namespace


@stage
def xmit(walk: Walk, ns: Namespace, dev: Device, flight: Flight, nexthop: IPv4Address) -> Step:
    if isinstance(dev, vxlan.Vxlan):
        return Step("tunnel_xmit", ns, dev, flight, nexthop)
    if isinstance(dev, Loopback):
        walk.hop(ns, flight, "xmit", "out through lo: the packet loops back into "
                 "this namespace", dev_out="lo")
        return Step("ip_rcv", ns, dev, flight)
    answer = l2.resolve(ns, dev, nexthop)
    if answer is None:
        walk.hop(ns, flight, "drop", f"ARP: no answer for who-has {nexthop} on {dev.name}; "
                 "the packet is dropped (host unreachable)", dev_out=dev.name)
        walk.finish("unreachable", f"nobody answers ARP for {nexthop}", flight)
        if not ns.is_local(flight.packet.src):  # a local sender just gets EHOSTUNREACH
            return Step("icmp_error", ns, flight, ICMP_DEST_UNREACH, HOST_UNREACHABLE)
        return END
    mac, how = answer
    flight.src_mac, flight.dst_mac = dev.mac, mac
    walk.hop(ns, flight, "xmit", f"send on {dev.name} to {nexthop} ({mac}; {how})",
             dev_out=dev.name)
    return Step("egress", ns, dev, flight)


def _tc(walk: Walk, ns: Namespace, dev: Device, direction: str, flight: Flight) -> Step | None:
    """Run the program at `dev`'s tc hook: None to go on, else the next step."""
    program = dev.tc.get(direction)
    if program is None:
        return None
    verdict = program.run(TcContext(ns, dev, direction, flight.packet, flight.src_mac,
                                    walk.network.clock, flight.mark, flight.tunnel_id))
    devs = {"dev_in": dev.name} if direction == "ingress" else {"dev_out": dev.name}
    if verdict.action == "redirect":
        devs["dev_out"] = verdict.redirect
    walk.bpf_hop(ns, flight, program, f"tc {direction} of {dev.name}", verdict, **devs)
    flight.packet = verdict.packet
    if verdict.mark is not None:
        flight.mark = verdict.mark
    if verdict.action == "pass":
        return None
    if verdict.action == "redirect":
        return Step("redirect", ns, ns.device(verdict.redirect), flight, verdict.dst_mac,
                    verdict.tunnel, verdict.tunnel_id)
    if verdict.answer is not None:  # the program built an answer and sends it back out
        note = Flight(verdict.answer, role="error", src_mac=dev.mac, dst_mac=flight.src_mac)
        walk.pending.append(Step("wire", dev, note))
    why = f": {verdict.drop_reason}" if verdict.drop_reason else ""
    walk.finish("dropped", f"dropped by {program.name} on {dev.name} in {ns.name}{why}", flight)
    return END


@stage
def egress(walk: Walk, ns: Namespace, dev: Device, flight: Flight) -> Step:
    step = _tc(walk, ns, dev, "egress", flight)
    return Step("wire", dev, flight) if step is None else step


@stage
def wire(walk: Walk, dev: Device, flight: Flight) -> Step:
    if isinstance(dev, Bridge):
        port = dev.forward_port(flight.dst_mac)
        how = "MAC table"
        if port is None:
            port, how = l2.flood_target(dev, None, flight.dst_mac), "unknown MAC, flooded"
        if port is None:
            walk.hop(dev.namespace, flight, "drop", f"{dev.name}: no port leads to "
                     f"{flight.dst_mac}", dev_out=dev.name)
            walk.finish("dropped", "bridge has no port for the destination MAC", flight)
            return END
        walk.hop(dev.namespace, flight, "bridge", f"{dev.name} sends the frame out its "
                 f"port {port.name} ({how})", dev_in=dev.name, dev_out=port.name)
        dev = port
    receiver = l2.wire_receiver(dev, flight.dst_mac)
    if receiver is None:
        walk.hop(dev.namespace, flight, "drop", f"no device on the wire of {dev.name} "
                 f"has MAC {flight.dst_mac}", dev_out=dev.name)
        walk.finish("dropped", "frame not received", flight)
        return END
    if receiver.namespace is not dev.namespace:
        flight.scrub()  # crossing namespaces scrubs the skb's mark and conntrack reference
    return Step("rx", receiver, flight)


@stage
def rx(walk: Walk, dev: Device, flight: Flight) -> Step:
    ns = dev.namespace
    step = _tc(walk, ns, dev, "ingress", flight)
    if step is not None:
        return step
    if dev.master is not None:
        return Step("bridge", dev.master, dev, flight)
    if dev.mac != flight.dst_mac:
        walk.hop(ns, flight, "drop", f"frame for {flight.dst_mac} is not for {dev.name}",
                 dev_in=dev.name)
        walk.finish("dropped", "frame addressed to another host", flight)
        return END
    walk.hop(ns, flight, "recv", f"received on {dev.kind} {dev.name}", dev_in=dev.name)
    return Step("ip_rcv", ns, dev, flight)


@stage
def bridge(walk: Walk, bridge: Bridge, port: Device, flight: Flight) -> Step:
    ns = bridge.namespace
    bridge.learn(flight.src_mac, port)
    if ns.sysctl.get("net.bridge.bridge-nf-call-iptables") == "1":
        flight.phys_in = port.name   # br_netfilter keeps the port on the skb (-m physdev)
    if flight.dst_mac == bridge.mac:
        walk.hop(ns, flight, "bridge", f"{port.name} is a port of {bridge.name}; the frame "
                 f"is for {bridge.name}'s own MAC, so it goes up to IP",
                 dev_in=port.name, dev_out=bridge.name)
        return Step("ip_rcv", ns, bridge, flight)
    out = bridge.forward_port(flight.dst_mac)
    how = "MAC table"
    if out is None:
        out = l2.flood_target(bridge, port, flight.dst_mac)
        how = "unknown MAC, flooded; answered on"
    if out is None:
        walk.hop(ns, flight, "drop", f"{bridge.name}: no port leads to {flight.dst_mac}",
                 dev_in=port.name)
        walk.finish("dropped", "bridge has no port for the destination MAC", flight)
        return END
    if out is port and not port.hairpin:
        walk.hop(ns, flight, "drop", f"{bridge.name}: destination is behind the port the "
                 "frame came in on and hairpin mode is off", dev_in=port.name)
        walk.finish("dropped", "bridge will not send a frame back out its ingress port",
                    flight)
        return END
    hairpin = " (hairpin: back out the same port)" if out is port else ""
    walk.hop(ns, flight, "bridge", f"{bridge.name} switches the frame {port.name} → "
             f"{out.name} ({how} {out.name}){hairpin}", dev_in=port.name, dev_out=out.name)
    if ns.sysctl.get("net.bridge.bridge-nf-call-iptables") == "1":
        # br_netfilter: the bridged frame meets the IP hooks as if it were routed
        flight.phys_out = out.name
        for hook, in_dev, out_dev in (("PREROUTING", bridge.name, None),
                                      ("FORWARD", bridge.name, bridge.name),
                                      ("POSTROUTING", None, bridge.name)):
            step = walk.hooks(ns, flight, hook, in_dev, out_dev)
            if step is not None:
                return step
    return Step("wire", out, flight)
