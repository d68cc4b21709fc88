"""Layer 2: ARP resolution over veths, bridges and segments, and where a frame lands."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.link import Bridge, Device, Veth

if TYPE_CHECKING:
    from playground.net.netns import Namespace


def _endpoints(start: Device) -> list[tuple[Device, list[tuple[Bridge, Device, Device]]]]:
    """Every L3 device a broadcast from `start` reaches, with the bridges it crossed.

    Each crossing is (bridge, ingress port, egress port or the bridge itself)."""
    reached: list[tuple[Device, list]] = []
    seen: set[int] = {id(start)}
    if isinstance(start, Bridge):  # sent from the bridge device: out of every port
        queue = [(peer, [(start, None, port)]) for port in start.ports.values()
                 for peer in port.wire_peers()]
    else:
        queue = [(peer, []) for peer in start.wire_peers()]
    while queue:
        device, path = queue.pop(0)
        if id(device) in seen:
            continue
        seen.add(id(device))
        bridge = device.master
        if bridge is None:
            reached.append((device, path))
            continue
        reached.append((bridge, path + [(bridge, device, bridge)]))
        for port in bridge.ports.values():
            if port is not device:
                seen.add(id(port))
                for peer in port.wire_peers():
                    queue.append((peer, path + [(bridge, device, port)]))
    return reached


def resolve(ns: Namespace, dev: Device, ip: IPv4Address) -> tuple[str, str] | None:
    """The MAC for `ip` on `dev`: from the neighbour cache, or by an ARP broadcast."""
    cached = ns.neighbours.get(ip)
    if cached is not None and cached[1] == dev.name:
        told = ns.garp_learnt.get(ip)
        return cached[0], "neighbour cache" + (f", from {told}" if told else "")
    segment = getattr(dev, "segment", None)
    if segment is not None:   # a node still asleep on the wire is built before it answers
        segment.wake(ip)
    answers = []
    for device, path in _endpoints(dev):
        owner = device.namespace
        who = None if owner is None or device.kind == "loopback" else \
            owner.answers_arp(ip, device)
        if who is not None:
            answers.append((device, path, who))
    if not answers:
        return None
    # every host that owns it answers; the neighbour entry keeps the first reply, as the
    # later ones arrive within its locktime
    device, path, who = answers[0]
    for bridge, ingress, egress in path:
        if ingress is not None:
            bridge.learn(dev.mac, ingress)
        if egress is not bridge:
            bridge.learn(device.mac, egress)
    ns.neighbours[ip] = (device.mac, dev.name)
    ns.garp_learnt.pop(ip, None)
    told = f"ARP who-has {ip}: {device.mac} answered" + ("" if who == "kernel" else f" ({who})")
    if len(answers) > 1:
        others = ", ".join(d.mac + ("" if w == "kernel" else f" ({w})") for d, _, w in answers[1:])
        told += f"; {len(answers) - 1} more answered too ({others}), the first reply kept"
    return device.mac, told


def wire_receiver(dev: Device, dst_mac: str) -> Device | None:
    """Which device takes a unicast frame put on `dev`'s wire (a veth's peer, or the
    segment member owning the MAC, as a learning switch would pick)."""
    if isinstance(dev, Veth):
        peers = dev.wire_peers()
        return peers[0] if peers else None
    segment = getattr(dev, "segment", None)
    if segment is not None:
        return segment.receiver(dev, dst_mac)
    return next((peer for peer in dev.wire_peers() if peer.mac == dst_mac), None)


def flood_target(bridge: Bridge, ingress: Device | None, dst_mac: str) -> Device | None:
    """The port behind which `dst_mac` answers when a frame is flooded."""
    for port in bridge.ports.values():
        if port is ingress:
            continue
        if any(peer.mac == dst_mac for peer in port.wire_peers()):
            return port
    return None


def gratuitous_arp(ns: Namespace, dev: Device, ip: IPv4Address, who: str) -> list[str]:
    """`arping -U`: `ns` tells the wire of `dev` that `ip` is at its MAC now. Switches learn
    the MAC's port; a host that has `ip` in its neighbour table takes the new MAC (with
    arp_accept 0 none adds an entry it did not have). The hosts that changed, by name."""
    changed = []
    for device, path in _endpoints(dev):
        for bridge, ingress, _egress in path:
            if ingress is not None:
                bridge.learn(dev.mac, ingress)
        other = device.namespace
        if other is None or other is ns or ip in other.permanent_neighbours:
            continue
        cached = other.neighbours.get(ip)
        if cached is not None and cached != (dev.mac, device.name):
            other.neighbours[ip] = (dev.mac, device.name)
            other.garp_learnt[ip] = f"a gratuitous ARP: {ip} is-at {dev.mac} ({who})"
            changed.append(other.name)
    return changed
