"""-m physdev: the bridge ports a bridged packet came in on and goes out of (br_netfilter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet

# the save order of libxt_physdev: names first, then the three flags
ORDER = ("physdev-in", "physdev-out", "physdev-is-in", "physdev-is-out", "physdev-is-bridged")


def _name_matches(pattern: str, name: str | None) -> bool:
    """An interface name, or a prefix ending in '+', as iptables reads them."""
    if name is None:
        return False
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else name == pattern


@dataclass(slots=True)
class PhysdevMatch(Match):
    NAME = "physdev"
    OPTIONS = {"--physdev-in": ("physdev-in", 1, True), "--physdev-out": ("physdev-out", 1, True),
               "--physdev-is-in": ("physdev-is-in", 0, True),
               "--physdev-is-out": ("physdev-is-out", 0, True),
               "--physdev-is-bridged": ("physdev-is-bridged", 0, True)}
    given: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # option -> (arg, !)

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        self.given[option] = (args[0] if args else None, invert)

    def finish(self, rule: Rule) -> None:
        if not self.given:
            raise _param("PHYSDEV: no physdev option specified")

    def save(self) -> str:
        parts = []
        for option in ORDER:
            if option in self.given:
                arg, inverted = self.given[option]
                parts.append(("! " if inverted else "") + f"--{option}"
                             + (f" {arg}" if arg is not None else ""))
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        facts = {"physdev-is-in": meta.phys_in is not None,
                 "physdev-is-out": meta.phys_out is not None,
                 "physdev-is-bridged": meta.phys_in is not None and meta.phys_out is not None}
        for option, (arg, inverted) in self.given.items():
            if option == "physdev-in":
                found = _name_matches(arg, meta.phys_in)
            elif option == "physdev-out":
                found = _name_matches(arg, meta.phys_out)
            else:
                found = facts[option]
            if found == inverted:
                return False
        return True
