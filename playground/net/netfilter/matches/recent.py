"""-m recent: lists of addresses seen recently (xt_recent)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _DIGITS, _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class RecentMatch(Match):
    """`-m recent`: remembers addresses in named lists (kube-proxy's session affinity)."""

    NAME = "recent"
    OPTIONS = {"--set": ("set", 0, True), "--rcheck": ("rcheck", 0, True),
               "--update": ("update", 0, True), "--remove": ("remove", 0, True),
               "--seconds": ("seconds", 1, False), "--reap": ("reap", 0, False),
               "--name": ("name", 1, False), "--mask": ("mask", 1, False),
               "--rsource": ("rsource", 0, False), "--rdest": ("rdest", 0, False)}
    action: str | None = None
    inv: bool = False
    seconds: int | None = None
    reap: bool = False
    list_name: str = "DEFAULT"
    mask: IPv4Address = IPv4Address("255.255.255.255")
    side: str = "rsource"

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option in ("set", "rcheck", "update", "remove"):
            if self.action is not None:
                raise _param("recent: only one of --set, --rcheck, --update or --remove "
                             "may be given")
            self.action, self.inv = option, invert
        elif option == "seconds":
            if not _DIGITS.fullmatch(args[0]):
                raise _param(f"recent: bad value for option \"--seconds\": \"{args[0]}\"")
            self.seconds = int(args[0])
        elif option == "reap":
            self.reap = True
        elif option == "name":
            self.list_name = args[0]
        elif option == "mask":
            try:
                self.mask = IPv4Address(args[0])
            except ValueError:
                raise _param(f"recent: bad value for option \"--mask\": \"{args[0]}\"") \
                    from None
        else:
            self.side = option

    def finish(self, rule: Rule) -> None:
        if self.action is None:
            raise _param("recent: you must specify one of `--set', `--rcheck', `--update' "
                         "or `--remove'")
        if (self.seconds is not None or self.reap) and self.action not in ("rcheck", "update"):
            raise _param("recent: --seconds and --reap only go with --rcheck or --update")
        if self.reap and self.seconds is None:
            raise _param("recent: --reap needs --seconds")

    def save(self) -> str:
        parts = [("! " if self.inv else "") + f"--{self.action}"]
        if self.seconds is not None:
            parts.append(f"--seconds {self.seconds}")
        if self.reap:
            parts.append("--reap")
        parts += [f"--name {self.list_name}", f"--mask {self.mask}", f"--{self.side}"]
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if meta.recent is None:
            return self.inv
        seen = meta.recent.setdefault(self.list_name, {})
        address = IPv4Address(int(pkt.src if self.side == "rsource" else pkt.dst)
                              & int(self.mask))
        if self.action == "set":
            seen[address] = meta.now
            return not self.inv
        when = seen.get(address)
        fresh = when is not None and (self.seconds is None or meta.now - when <= self.seconds)
        if self.reap and when is not None and not fresh:
            del seen[address]
        if fresh and self.action == "update":
            seen[address] = meta.now
        if fresh and self.action == "remove":
            del seen[address]
        return fresh != self.inv
