"""Network devices: loopback, veth pairs, Linux bridges and ethernet on a shared segment."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playground.net.netns import Namespace

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


def stable_mac(seed: str) -> str:
    """A locally administered unicast MAC derived from a name, so labs are reproducible."""
    digest = hashlib.sha256(seed.encode()).digest()
    octets = [(digest[0] | 0x02) & 0xFE, *digest[1:6]]
    return ":".join(f"{b:02x}" for b in octets)


@dataclass(eq=False)
class Device:
    name: str
    mac: str
    kind: str = "device"
    mtu: int = 1500
    up: bool = True
    namespace: Namespace | None = field(default=None, repr=False)
    master: Bridge | None = field(default=None, repr=False)
    hairpin: bool = False
    tc: dict = field(default_factory=dict, repr=False)  # BPF programs at tc ingress/egress

    @property
    def where(self) -> str:
        return f"{self.namespace.name if self.namespace else '?'}:{self.name}"

    def wire_peers(self) -> list[Device]:
        """Devices that receive what this one transmits."""
        return []


@dataclass(eq=False)
class Loopback(Device):
    kind: str = "loopback"
    mtu: int = 65536


@dataclass(eq=False)
class Veth(Device):
    kind: str = "veth"
    peer: Veth | None = field(default=None, repr=False)

    def wire_peers(self) -> list[Device]:
        return [self.peer] if self.peer is not None else []


@dataclass(eq=False)
class Ethernet(Device):
    kind: str = "ether"
    segment: Segment | None = field(default=None, repr=False)

    def wire_peers(self) -> list[Device]:
        if self.segment is None:
            return []
        return [d for d in self.segment.devices if d is not self]


@dataclass(eq=False)
class Dummy(Device):
    """A device with no wire: it only holds addresses (kube-ipvs0 keeps Service IPs)."""

    kind: str = "dummy"


@dataclass(eq=False)
class Bridge(Device):
    """A learning switch; its own device is also an L3 interface of the namespace."""

    kind: str = "bridge"
    ports: dict[str, Device] = field(default_factory=dict, repr=False)
    fdb: dict[str, str] = field(default_factory=dict)

    def enslave(self, port: Device, hairpin: bool = False) -> None:
        port.master = self
        port.hairpin = hairpin
        self.ports[port.name] = port

    def release(self, port: Device) -> None:
        self.ports.pop(port.name, None)
        self.fdb = {mac: name for mac, name in self.fdb.items() if name != port.name}
        port.master = None

    def learn(self, mac: str, port: Device) -> None:
        if mac != BROADCAST_MAC:
            self.fdb[mac] = port.name

    def forward_port(self, mac: str) -> Device | None:
        name = self.fdb.get(mac)
        return self.ports.get(name) if name else None

@dataclass(eq=False)
class Segment:
    """A shared L2 network (the cloud VPC subnet the nodes sit on)."""

    name: str
    devices: list[Ethernet] = field(default_factory=list)
    # who has which MAC, in attach order: a unicast frame finds its receiver without a
    # look at each of 5,000 nodes (a switch's MAC table does the same)
    by_mac: dict[str, list[Ethernet]] = field(default_factory=dict, repr=False)
    # members not built yet, by IP address: ARP for one builds it (no frame reaches its MAC
    # before that: a loaded lab starts with empty neighbour caches)
    sleepers: dict[IPv4Address, Callable[[], None]] = field(default_factory=dict, repr=False)

    def attach(self, device: Ethernet) -> None:
        device.segment = self
        self.devices.append(device)
        self.by_mac.setdefault(device.mac, []).append(device)

    def detach(self, device: Ethernet) -> None:
        self.devices.remove(device)
        holders = self.by_mac.get(device.mac, [])
        if device in holders:
            holders.remove(device)
        device.segment = None

    def wake(self, address: IPv4Address) -> None:
        """Build the sleeping member that answers to this address, if there is one."""
        if self.sleepers:
            build = self.sleepers.get(address)
            if build is not None:
                build()

    def receiver(self, sender: Device, mac: str) -> Ethernet | None:
        return next((d for d in self.by_mac.get(mac, ()) if d is not sender), None)


def veth_pair(name: str, peer_name: str, seed: str) -> tuple[Veth, Veth]:
    one = Veth(name, stable_mac(f"{seed}/{name}"))
    other = Veth(peer_name, stable_mac(f"{seed}/{peer_name}"))
    one.peer, other.peer = other, one
    return one, other
