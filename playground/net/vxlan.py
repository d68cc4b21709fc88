"""VXLAN (RFC 7348): a device whose Ethernet frames travel inside UDP between tunnel endpoints.

Nothing here knows who configures the tunnel: flannel's vxlan backend and Cilium's tunnel
mode both fill the same forwarding entries (MAC → remote endpoint IP).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.link import Device
from playground.net.packet import Packet

if TYPE_CHECKING:
    from playground.net.netns import Namespace

# outer IPv4 20 + UDP 8 + VXLAN 8 + the inner frame's Ethernet header 14
OVERHEAD = 50
# `srcport 0 0`: the kernel picks the outer source port from its local port range
SOURCE_PORTS = range(32768, 61000)


@dataclass(eq=False)
class Vxlan(Device):
    """`ip link add NAME type vxlan id VNI local IP dev UNDERLAY dstport PORT [nolearning]`."""

    kind: str = "vxlan"
    vni: int = 1
    local: IPv4Address | None = None
    underlay: str | None = None
    dstport: int = 4789
    learning: bool = True
    external: bool = False  # collect metadata: programs set and read the VNI per packet
    fdb: dict[str, IPv4Address] = field(default_factory=dict)  # MAC → remote endpoint

    def add_fdb(self, mac: str, remote: IPv4Address) -> None:
        self.fdb[mac] = IPv4Address(remote)

    def remove_fdb(self, mac: str) -> None:
        self.fdb.pop(mac, None)


def source_port(inner: Packet) -> int:
    """A hash of the inner flow: one flow keeps one outer port, so ECMP and RSS spread
    flows yet never reorder one."""
    key = f"{inner.src}>{inner.dst}/{inner.proto}/{inner.sport}/{inner.dport}/{inner.icmp_id}"
    port = SOURCE_PORTS.start + zlib.crc32(key.encode()) % len(SOURCE_PORTS)
    while port in (inner.sport, inner.dport):  # keep outer and inner tuples telling apart
        port = SOURCE_PORTS.start + (port + 1 - SOURCE_PORTS.start) % len(SOURCE_PORTS)
    return port


def encapsulate(dev: Vxlan, inner: Packet, remote: IPv4Address, vni: int | None = None
                ) -> Packet:
    """The UDP datagram the kernel sends for `inner`: outer header from this endpoint to
    `remote`, TTL 64 (`ttl auto`), DF clear (`df unset`); `vni` from a tunnel key."""
    return Packet(dev.local, remote, "udp", source_port(inner), dev.dstport,
                  length=inner.length + OVERHEAD, vni=dev.vni if vni is None else vni,
                  payload=inner)


def receiver(ns: Namespace, packet: Packet) -> Vxlan | None:
    """The VXLAN device of `ns` whose UDP socket takes `packet`, if any."""
    if packet.proto != "udp":
        return None
    for device in ns.devices.values():
        if isinstance(device, Vxlan) and device.up and device.dstport == packet.dport and (
                device.local is None or device.local == packet.dst):
            return device
    return None
