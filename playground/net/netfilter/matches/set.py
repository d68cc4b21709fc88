"""-m set: membership of an ipset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class SetMatch(Match):
    """`-m set --match-set NAME FLAGS`: is the packet, read as FLAGS, a member of an ipset?"""

    NAME = "set"
    OPTIONS = {"--match-set": ("match-set", 2, True)}
    set_name: str | None = None
    flags: str = ""
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        flags = args[1].split(",")
        if not 1 <= len(flags) <= 6 or any(f not in ("src", "dst") for f in flags):
            raise _param(f"set: You must specify (the comma separated list of) 'src' or "
                         f"'dst' (got \"{args[1]}\")")
        self.set_name, self.flags, self.inv = args[0], args[1], invert

    def finish(self, rule: Rule) -> None:
        if self.set_name is None:
            raise _param("set: You must specify `--match-set' with proper arguments")

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--match-set {self.set_name} {self.flags}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        found = meta.ipsets.get(self.set_name) if meta.ipsets is not None else None
        return (found is not None and found.contains(pkt, self.flags.split(","))) != self.inv
