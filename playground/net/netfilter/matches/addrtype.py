"""-m addrtype: the kind of address (LOCAL, UNICAST, ...) source and destination are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import ADDR_TYPES, _addr_type, _mask_of, _names_of, _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class AddrtypeMatch(Match):
    NAME = "addrtype"
    OPTIONS = {"--src-type": ("src-type", 1, True), "--dst-type": ("dst-type", 1, True),
               "--limit-iface-in": ("limit-iface-in", 0, False),
               "--limit-iface-out": ("limit-iface-out", 0, False)}
    src_types: int = 0
    src_inv: bool = False
    dst_types: int = 0
    dst_inv: bool = False
    limit_in: bool = False
    limit_out: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option == "src-type":
            self.src_types = _mask_of(args[0], ADDR_TYPES, "addrtype: bad type `{}'")
            self.src_inv = invert
        elif option == "dst-type":
            self.dst_types = _mask_of(args[0], ADDR_TYPES, "addrtype: bad type `{}'")
            self.dst_inv = invert
        elif option == "limit-iface-in":
            self.limit_in = True
        else:
            self.limit_out = True

    def finish(self, rule: Rule) -> None:
        if not (self.src_types or self.dst_types):
            raise _param("addrtype: you must specify --src-type or --dst-type")

    def save(self) -> str:
        parts = []
        if self.src_types:
            parts.append(("! " if self.src_inv else "")
                         + f"--src-type {_names_of(self.src_types, ADDR_TYPES)}")
        if self.dst_types:
            parts.append(("! " if self.dst_inv else "")
                         + f"--dst-type {_names_of(self.dst_types, ADDR_TYPES)}")
        parts += ["--limit-iface-in"] * self.limit_in + ["--limit-iface-out"] * self.limit_out
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        for types, inverted, address in ((self.src_types, self.src_inv, pkt.src),
                                         (self.dst_types, self.dst_inv, pkt.dst)):
            if types:
                bit = 1 << ADDR_TYPES.index(_addr_type(address, meta.local_addresses))
                if bool(types & bit) == inverted:
                    return False
        return True
