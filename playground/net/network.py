"""The whole modelled world: namespaces, L2 segments, a seeded random source and a clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from ipaddress import IPv4Address
from typing import NamedTuple

from playground.net.link import Ethernet, Segment, Veth, veth_pair
from playground.net.netns import Namespace, NetError
from playground.net.packet import Packet, icmp_echo, sctp_init, tcp_syn, udp_datagram
from playground.net.trace import Trace
from playground.net.walk import Walker, echo_reply_for

EPHEMERAL_PORTS = range(32768, 61000)  # net.ipv4.ip_local_port_range default


class Sleeper(NamedTuple):
    """A namespace not built yet: the key that wakes it (its node) and, for a host on the
    node network, its address there (what a picture of the lab shows before it wakes)."""

    key: str
    address: str = ""


class Network:
    def __init__(self, seed: int = 0) -> None:
        self.namespaces: dict[str, Namespace] = {}
        # namespaces not built yet (a loaded lab's nodes and pods): name -> what builds them
        self.asleep: dict[str, Sleeper] = {}
        self.waker: Callable[[str], None] | None = None
        self.segments: dict[str, Segment] = {}
        self.rng = random.Random(seed)
        self.clock = 0.0
        self.generation = 0
        self.cookies = 0

    def __getstate__(self) -> dict:
        """A copy (the kernel check's model) builds nothing: it has no way to wake."""
        return {**self.__dict__, "waker": None}

    def namespace(self, name: str) -> Namespace:
        ns = self.find(name)
        if ns is None:
            raise NetError(f"no namespace named {name}")
        return ns

    def find(self, name: str) -> Namespace | None:
        """The namespace of that name, built first if it was still asleep; None if none."""
        ns = self.namespaces.get(name)
        if ns is None and name in self.asleep:
            self.wake(self.asleep[name].key)
            ns = self.namespaces.get(name)
        return ns

    def wake(self, sleeper: str) -> None:
        """Build what is asleep under this key (a node and its pods) now."""
        if self.waker is not None:
            self.waker(sleeper)

    def names(self) -> list[str]:
        """Every namespace's name, built or still asleep."""
        return [*self.namespaces, *(n for n in self.asleep if n not in self.namespaces)]

    def add_namespace(self, name: str) -> Namespace:
        if name in self.namespaces:
            raise NetError(f"namespace {name} already exists")
        ns = self.namespaces[name] = Namespace(name)
        ns.conntrack.clock = lambda: self.clock
        self.generation += 1
        return ns

    def remove_namespace(self, name: str) -> None:
        """Deleting a namespace destroys its veths, and with them their peers."""
        ns = self.namespaces.pop(name)
        for device in list(ns.devices.values()):
            if isinstance(device, Veth) and device.peer is not None and device.peer.namespace:
                device.peer.namespace.remove_device(device.peer.name)
            if isinstance(device, Ethernet) and device.segment is not None:
                device.segment.detach(device)
        self.generation += 1

    def new_cookie(self) -> int:
        """A socket cookie: unique per socket, counted so traces stay reproducible."""
        self.cookies += 1
        return 4096 + self.cookies

    def advance(self, seconds: float) -> None:
        """Let lab time pass: conntrack entries age and expire."""
        self.clock += seconds
        for ns in self.namespaces.values():
            ns.conntrack.expire()

    def segment(self, name: str) -> Segment:
        return self.segments.setdefault(name, Segment(name))

    def add_veth(self, ns: Namespace, name: str, peer_ns: Namespace, peer_name: str) -> tuple:
        one, other = veth_pair(name, peer_name, seed=f"{ns.name}|{peer_ns.name}")
        ns.add_device(one)
        peer_ns.add_device(other)
        self.generation += 1
        return one, other

    # sending

    def ephemeral_port(self, ns: Namespace, proto: str) -> int:
        while True:
            port = self.rng.randrange(EPHEMERAL_PORTS.start, EPHEMERAL_PORTS.stop)
            if not ns.port_in_use(proto, port):
                return port

    def send(self, source: str, dst: IPv4Address | str, proto: str = "tcp", dport: int = 80,
             owner: str = "client", sport: int | None = None, size: int | None = None,
             df: bool = False) -> Trace:
        """Open a connection (or send a datagram or ping) from a namespace, as a process would;
        `size` sets the packet's IP length, `df` its Don't Fragment bit."""
        ns = self.namespace(source)
        dst = IPv4Address(dst)
        result = ns.route_lookup(dst)
        src = result.src if result is not None and result.src else IPv4Address(0)
        if proto == "icmp":
            packet = icmp_echo(src, dst, self.rng.randrange(1, 65536))
        else:
            port = sport or self.ephemeral_port(ns, proto)
            maker = {"tcp": tcp_syn, "sctp": sctp_init}.get(proto, udp_datagram)
            packet = maker(src, dst, port, dport)
        if size is not None or df:
            packet = packet.with_(length=size or packet.length, df=df)
        # with no source address the send fails before any socket is connected
        return Walker(self).send(ns, packet, owner if src != IPv4Address(0) else None)

    def walk(self, ns: Namespace, packet: Packet) -> Trace:
        return Walker(self).send(ns, packet)

    def reply(self, trace: Trace, size: int | None = None, flags: str | None = None) -> Trace:
        """The answer from the socket the trace was delivered to, traced back; `size` is its
        IP length when the program's answer is not the request's size, `flags` its TCP flags
        when it carries data (PSH,ACK) rather than only acknowledging."""
        if trace.verdict != "delivered" or trace.delivered_packet is None:
            raise NetError("only a delivered packet can be answered")
        request = trace.delivered_packet
        ns = self.namespace(trace.delivered_to.namespace)
        if request.proto == "icmp":
            answer = echo_reply_for(request)
        else:
            flags = flags or ("SYN,ACK" if request.flags == "SYN" else "INIT_ACK" if
                              request.flags == "INIT" else request.flags and "ACK")
            if flags == "SYN,ACK":  # answering a SYN opens the server's side of the connection
                self._server_side(ns, request, trace.delivered_to.owner)
            answer = Packet(request.dst, request.src, request.proto, request.dport,
                            request.sport, flags=flags, length=size or request.length)
        return self.walk(ns, answer)

    @staticmethod
    def _server_side(ns, request: Packet, owner: str) -> None:
        """The connection the listener hands to accept(), so the client's ACK finds it."""
        if not any(s.remote == (request.src, request.sport) and s.port == request.dport
                   and s.proto == request.proto for s in ns.sockets):
            ns.connect(request.proto, request.dst, request.dport, request.src, request.sport,
                       owner)
