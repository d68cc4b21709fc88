"""-m mark: the packet's fwmark under a mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _MASK32, _param, _value_mask

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class MarkMatch(Match):
    NAME = "mark"
    OPTIONS = {"--mark": ("mark", 1, True)}
    mark: int | None = None
    mask: int = _MASK32
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        self.mark, self.mask = _value_mask(args[0], "mark")
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if self.mark is None:
            raise _param("mark: option \"--mark\" must be specified")

    def save(self) -> str:
        value = f"0x{self.mark:x}" + (f"/0x{self.mask:x}" if self.mask != _MASK32 else "")
        return ("! " if self.inv else "") + f"--mark {value}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return ((meta.mark & self.mask) == self.mark) != self.inv
