"""-m conntrack: the packet's conntrack state (--ctstate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import CT_STATES, _ct_bits, _mask_of, _names_of, _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class ConntrackMatch(Match):
    NAME = "conntrack"
    OPTIONS = {"--ctstate": ("ctstate", 1, True)}
    states: int | None = None
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        self.states = _mask_of(args[0], CT_STATES, "Bad ctstate \"{}\"")
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if self.states is None:
            raise _param("conntrack: At least one option is required")

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--ctstate {_names_of(self.states, CT_STATES)}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return bool(self.states & _ct_bits(meta)) != self.inv
