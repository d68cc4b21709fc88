"""-m comment: a note kept with the rule, which matches every packet."""

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
class CommentMatch(Match):
    NAME = "comment"
    OPTIONS = {"--comment": ("comment", 1, False)}
    comment: str | None = None

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if len(args[0]) > 255:
            raise _param("comment: option \"--comment\" must be no longer than 255 characters")
        self.comment = args[0]

    def finish(self, rule: Rule) -> None:
        if self.comment is None:
            raise _param("comment: option \"--comment\" must be specified")

    def save(self) -> str:
        return f"--comment {save_string(self.comment or '')}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return True
