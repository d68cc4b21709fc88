"""-m nfacct: counts what reaches it in a named accounting object (xt_nfacct), and matches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _param, save_string

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class NfacctMatch(Match):
    NAME = "nfacct"
    OPTIONS = {"--nfacct-name": ("nfacct-name", 1, False)}
    object_name: str | None = None

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if len(args[0]) > 31:   # NFACCT_NAME_MAX, with its NUL
            raise _param("nfacct: option \"--nfacct-name\" must be no longer than 31 "
                         "characters")
        self.object_name = args[0]

    def finish(self, rule: Rule) -> None:
        if self.object_name is None:
            raise _param("nfacct: option \"--nfacct-name\" must be specified")

    def save(self) -> str:
        # libxt_nfacct prints its own space before the name, as iptables-save shows it
        return f"--nfacct-name  {save_string(self.object_name or '')}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        counter = meta.nfacct.get(self.object_name) if meta.nfacct is not None else None
        if counter is not None:
            counter[0] += 1
            counter[1] += pkt.length
        return True
