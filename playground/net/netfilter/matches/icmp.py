"""-m icmp: ICMP type and code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _DIGITS, _EINVAL, _ICMP_TYPES, _kernel, _param
from playground.net.packet import PROTO_NUMBERS

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class IcmpMatch(Match):
    NAME = "icmp"
    OPTIONS = {"--icmp-type": ("icmp-type", 1, True)}
    icmp_type: int = 0xFF
    code_min: int = 0
    code_max: int = 0xFF
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        text = args[0]
        if text.lower() in _ICMP_TYPES:
            self.icmp_type, self.code_min, self.code_max = _ICMP_TYPES[text.lower()]
        else:
            kind, slash, code = text.partition("/")
            if (not _DIGITS.fullmatch(kind) or int(kind) > 255
                    or (slash and (not _DIGITS.fullmatch(code) or int(code) > 255))):
                raise _param(f"Invalid ICMP type `{text}'")
            self.icmp_type = int(kind)
            self.code_min, self.code_max = (int(code), int(code)) if slash else (0, 0xFF)
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if rule.proto != PROTO_NUMBERS["icmp"] or rule.proto_inv:
            raise _kernel(_EINVAL)

    def save(self) -> str:
        text = "--icmp-type any" if self.icmp_type == 0xFF else f"--icmp-type {self.icmp_type}"
        if self.icmp_type != 0xFF and (self.code_min, self.code_max) != (0, 0xFF):
            text += f"/{self.code_min}"
        return ("! " if self.inv else "") + text

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        hit = self.icmp_type == 0xFF or (
            pkt.icmp_type == self.icmp_type and self.code_min <= pkt.icmp_code <= self.code_max)
        return hit != self.inv
