"""-m tcp, -m udp (ports, TCP flags) and -m multiport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import (
    _EINVAL,
    _PORT_PROTOCOLS,
    _kernel,
    _packet_tcp_flags,
    _param,
    _port_range,
    _tcp_flag_mask,
    _tcp_flag_names,
)
from playground.net.packet import PROTO_NUMBERS

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


_PORT_OPTIONS = {"--sport": ("sport", 1, True), "--source-port": ("sport", 1, True),
                 "--dport": ("dport", 1, True), "--destination-port": ("dport", 1, True)}
_TCP_OPTIONS = {**_PORT_OPTIONS, "--tcp-flags": ("tcp-flags", 2, True),
                "--syn": ("syn", 0, True)}


@dataclass(slots=True)
class PortMatch(Match):
    """`-m tcp` / `-m udp`: port ranges (and TCP flags for tcp)."""

    proto: str = "tcp"
    sport: tuple[int, int] = (0, 65535)
    sport_inv: bool = False
    dport: tuple[int, int] = (0, 65535)
    dport_inv: bool = False
    flags_mask: int = 0
    flags_cmp: int = 0
    flags_inv: bool = False

    @property
    def name(self) -> str:
        return self.proto

    def options(self) -> dict[str, tuple[str, int, bool]]:
        return _TCP_OPTIONS if self.proto == "tcp" else _PORT_OPTIONS

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option == "sport":
            self.sport, self.sport_inv = _port_range(args[0]), invert
        elif option == "dport":
            self.dport, self.dport_inv = _port_range(args[0]), invert
        else:
            if self.flags_mask:
                raise _param("Only one of `--syn' or `--tcp-flags'  may be specified")
            if option == "syn":
                self.flags_mask, self.flags_cmp = 0x17, 0x02  # FIN,SYN,RST,ACK SYN
            else:
                self.flags_mask, self.flags_cmp = _tcp_flag_mask(args[0]), _tcp_flag_mask(args[1])
            self.flags_inv = invert

    def finish(self, rule: Rule) -> None:
        if rule.proto != PROTO_NUMBERS[self.proto] or rule.proto_inv:
            raise _kernel(_EINVAL)

    def save(self) -> str:
        parts = []
        for label, (low, high), inverted in (("--sport", self.sport, self.sport_inv),
                                             ("--dport", self.dport, self.dport_inv)):
            if (low, high) != (0, 65535):
                ports = str(low) if low == high else f"{low}:{high}"
                parts.append(("! " if inverted else "") + f"{label} {ports}")
        if self.flags_mask or self.flags_inv:
            parts.append(("! " if self.flags_inv else "") + "--tcp-flags "
                         f"{_tcp_flag_names(self.flags_mask)} {_tcp_flag_names(self.flags_cmp)}")
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if (self.sport[0] <= pkt.sport <= self.sport[1]) == self.sport_inv:
            return False
        if (self.dport[0] <= pkt.dport <= self.dport[1]) == self.dport_inv:
            return False
        if self.flags_mask or self.flags_inv:
            hit = _packet_tcp_flags(pkt.flags) & self.flags_mask == self.flags_cmp
            return hit != self.flags_inv
        return True



@dataclass(slots=True)
class MultiportMatch(Match):
    NAME = "multiport"
    OPTIONS = {"--sports": ("sports", 1, True), "--source-ports": ("sports", 1, True),
               "--dports": ("dports", 1, True), "--destination-ports": ("dports", 1, True),
               "--ports": ("ports", 1, True)}
    kind: str | None = None
    ports: tuple[tuple[int, int], ...] = ()
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if self.kind is not None:
            raise _param("multiport can only have one option")
        ranges = tuple(_port_range(item) for item in args[0].split(","))
        if sum(1 if low == high else 2 for low, high in ranges) > 15:
            raise _param("too many ports specified")
        self.kind, self.ports, self.inv = option, ranges, invert

    def finish(self, rule: Rule) -> None:
        if rule.proto not in _PORT_PROTOCOLS or rule.proto_inv:
            raise _param("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or "
                         "`-p dccp'")
        if self.kind is None:
            raise _param("multiport expects an option")

    def save(self) -> str:
        ports = ",".join(str(low) if low == high else f"{low}:{high}"
                         for low, high in self.ports)
        return ("! " if self.inv else "") + f"--{self.kind} {ports}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        wanted = {"sports": (pkt.sport,), "dports": (pkt.dport,),
                  "ports": (pkt.sport, pkt.dport)}[self.kind]
        hit = any(low <= port <= high for port in wanted for low, high in self.ports)
        return hit != self.inv
