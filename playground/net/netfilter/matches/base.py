"""The shape of a `-m NAME` match module."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


class Match:
    """One `-m NAME` module: its options, its save text and its test on a packet."""

    __slots__ = ()
    NAME = ""
    # option spelling -> (canonical name, number of arguments, may be negated with !)
    OPTIONS: dict[str, tuple[str, int, bool]] = {}

    @property
    def name(self) -> str:
        return self.NAME

    def options(self) -> dict[str, tuple[str, int, bool]]:
        return self.OPTIONS

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        raise NotImplementedError

    def finish(self, rule: Rule) -> None:
        """Check the module against the whole rule, as userspace and checkentry do."""

    def save(self) -> str:
        raise NotImplementedError

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        raise NotImplementedError

    def clone(self) -> Match:
        return copy.copy(self)
