"""Cilium's connection tracking (cilium_ct4_global) and SNAT (cilium_snat_v4_external)
maps: per-flow entries the programs write and read, dumped as `cilium bpf ct list global`
and `cilium bpf nat list` print them."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.net.bpf.maps import BpfMap
from playground.net.packet import ICMP_ECHO_REPLY, Packet

CT_MAP, NAT_MAP = "cilium_ct4_global", "cilium_snat_v4_external"
TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10}
ENTRY_FLAGS = {"RxClosing": 0x01, "TxClosing": 0x02, "Nat64": 0x04, "LBLoopback": 0x08,
               "SeenNonSyn": 0x10, "NodePort": 0x20}
# Cilium's defaults: a TCP flow waits 60s for its handshake, then lives 6 hours; others 60s.
SYN_TIMEOUT, TCP_TIMEOUT, ANY_TIMEOUT = 60, 21600, 60


@dataclass(frozen=True, slots=True)
class FlowKey:
    proto: str
    src: IPv4Address
    sport: int
    dst: IPv4Address
    dport: int
    kind: str  # OUT (leaving an endpoint), IN (entering one), SVC (a Service's choice)

    def text(self) -> str:
        return f"{self.proto.upper()} {self.kind} {self.src}:{self.sport} -> " \
               f"{self.dst}:{self.dport}"

    def reversed(self) -> tuple:
        return (self.proto, self.dst, self.dport, self.src, self.sport)


def ports(packet: Packet) -> tuple[int, int]:
    """Ports as CT keys them; an ICMP echo is keyed by its identifier."""
    if packet.proto != "icmp":
        return packet.sport, packet.dport
    return (0, packet.icmp_id) if packet.icmp_type == ICMP_ECHO_REPLY else (packet.icmp_id, 0)


def flow_of(packet: Packet) -> tuple:
    sport, dport = ports(packet)
    return (packet.proto, packet.src, sport, packet.dst, dport)


def tcp_bits(packet: Packet) -> int:
    return sum(TCP_FLAGS.get(flag, 0) for flag in packet.flag_set)


@dataclass(slots=True)
class CtEntry:
    lifetime: int
    rev_nat: int = 0
    backend_id: int = 0
    flags: set[str] = field(default_factory=set)
    rx_packets: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_flags: int = 0
    tx_flags: int = 0
    last_rx: int = 0
    last_tx: int = 0
    source_identity: int = 0  # the peer's security identity an IN entry was opened for

    def text(self, key: FlowKey) -> str:
        bits = sum(ENTRY_FLAGS[name] for name in self.flags)
        names = "".join(f"{name} " for name in ENTRY_FLAGS if name in self.flags)
        rx_packets = self.backend_id if key.kind == "SVC" else self.rx_packets  # a union
        return (f"{key.text()} expires={self.lifetime} RxPackets={rx_packets} "
                f"RxBytes={self.rx_bytes} RxFlagsSeen=0x{self.rx_flags:02x} "
                f"LastRxReport={self.last_rx} TxPackets={self.tx_packets} "
                f"TxBytes={self.tx_bytes} TxFlagsSeen=0x{self.tx_flags:02x} "
                f"LastTxReport={self.last_tx} Flags=0x{bits:04x} [ {names}] "
                f"RevNAT={self.rev_nat} SourceSecurityID={self.source_identity} IfIndex=0 ")


class ConntrackMap:
    def __init__(self) -> None:
        self.map = BpfMap(CT_MAP, "lru_hash", 524288)

    def find(self, packet: Packet, kinds=("OUT", "IN")) -> tuple[FlowKey, CtEntry, bool] | None:
        """The entry of the packet's flow and whether the packet is its reply."""
        flow = flow_of(packet)
        for kind in kinds:
            key = FlowKey(*flow, kind)
            entry = self.map.lookup(key)
            if entry is not None:
                return key, entry, False
            proto, src, sport, dst, dport = flow
            key = FlowKey(proto, dst, dport, src, sport, kind)
            entry = self.map.lookup(key)
            if entry is not None:
                return key, entry, True
        return None

    def lookup(self, packet: Packet, original: str, reply: str
               ) -> tuple[FlowKey, CtEntry, bool] | None:
        """As an endpoint's program looks: its own direction's entry, or the packet as the
        reply of an entry of the other direction (OUT at from-container, IN at to-container)."""
        proto, src, sport, dst, dport = flow_of(packet)
        key = FlowKey(proto, src, sport, dst, dport, original)
        entry = self.map.lookup(key)
        if entry is not None:
            return key, entry, False
        key = FlowKey(proto, dst, dport, src, sport, reply)
        entry = self.map.lookup(key)
        return (key, entry, True) if entry is not None else None

    def create(self, packet: Packet, kind: str, now: float, **fields) -> tuple[FlowKey, CtEntry]:
        key = FlowKey(*flow_of(packet), kind)
        entry = CtEntry(0, **fields)
        self.map.update(key, entry)
        self.account(entry, packet, now, reply=False)
        return key, entry

    def account(self, entry: CtEntry, packet: Packet, now: float, reply: bool) -> None:
        """Count the packet on its side and push the expiry out, as the datapath does."""
        tick = int(now)
        bits = tcp_bits(packet)
        if reply:
            entry.rx_packets += 1
            entry.rx_bytes += packet.length
            entry.rx_flags |= bits
            entry.last_rx = tick
        else:
            entry.tx_packets += 1
            entry.tx_bytes += packet.length
            entry.tx_flags |= bits
            entry.last_tx = tick
        if packet.proto == "tcp" and bits != TCP_FLAGS["SYN"]:
            entry.flags.add("SeenNonSyn")
        established = packet.proto == "tcp" and "SeenNonSyn" in entry.flags
        timeout = TCP_TIMEOUT if established else SYN_TIMEOUT if packet.proto == "tcp" \
            else ANY_TIMEOUT
        entry.lifetime = tick + timeout

    def listing(self) -> str:
        """`cilium bpf ct list global`."""
        return "".join(entry.text(key) + "\n" for key, entry in self.map.items())


@dataclass(slots=True)
class NatEntry:
    address: IPv4Address
    port: int
    created: int


class SnatMap:
    def __init__(self) -> None:
        self.map = BpfMap(NAT_MAP, "lru_hash", 524288)

    def bind(self, original: Packet, address: IPv4Address, port: int, now: float) -> None:
        """Both directions of one translation: OUT rewrites the source, IN undoes it."""
        proto, src, sport, dst, dport = flow_of(original)
        self.map.update(FlowKey(proto, src, sport, dst, dport, "OUT"),
                        NatEntry(address, port, int(now)))
        self.map.update(FlowKey(proto, dst, dport, address, port, "IN"),
                        NatEntry(src, sport, int(now)))

    def lookup(self, packet: Packet, kind: str) -> tuple[FlowKey, NatEntry] | None:
        key = FlowKey(*flow_of(packet), kind)
        entry = self.map.lookup(key)
        return (key, entry) if entry is not None else None

    def taken(self, proto: str, address: IPv4Address, port: int) -> bool:
        return any(key.kind == "OUT" and key.proto == proto and entry.address == address
                   and entry.port == port for key, entry in self.map.items())

    @staticmethod
    def text(key: FlowKey, entry: NatEntry, now: float) -> str:
        what = "XLATE_SRC" if key.kind == "OUT" else "XLATE_DST"
        return (f"{key.text()} {what} {entry.address}:{entry.port} "
                f"Created={int(now) - entry.created}sec ago NeedsCT=0")

    def listing(self, now: float) -> str:
        """`cilium bpf nat list`."""
        return "".join(self.text(key, entry, now) + "\n" for key, entry in self.map.items())
