"""-m statistic: random or every-nth packets, as kube-proxy spreads endpoints."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playground.net.netfilter.matches.base import Match
from playground.net.netfilter.values import _DIGITS, _MASK32, _param

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule
    from playground.net.netfilter.values import PacketMeta
    from playground.net.packet import Packet


@dataclass(slots=True)
class StatisticMatch(Match):
    """`-m statistic`: random keeps lround(p * 2**31); nth keeps a running counter."""

    NAME = "statistic"
    OPTIONS = {"--mode": ("mode", 1, False), "--probability": ("probability", 1, True),
               "--every": ("every", 1, True), "--packet": ("packet", 1, False)}
    mode: str | None = None
    inv: bool = False
    probability: int | None = None   # threshold on 31 random bits
    every: int | None = None          # stored as N-1, like the kernel
    packet: int | None = None
    count: int = field(default=0, compare=False)

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        text = args[0]
        self.inv = self.inv or invert
        if option == "mode":
            if text not in ("random", "nth"):
                raise _param(f"Bad mode \"{text}\"")
            self.mode = text
        elif option == "probability":
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not 0.0 <= value <= 1.0:
                raise _param(f"statistic: bad value for option \"--probability\": \"{text}\"")
            self.probability = math.floor(value * 0x80000000 + 0.5)  # C lround
        else:
            number = int(text) if _DIGITS.fullmatch(text) else None
            if number is None or number > _MASK32 or (option == "every" and number < 1):
                raise _param(f"statistic: bad value for option \"--{option}\": \"{text}\"")
            if option == "every":
                self.every = number - 1
            else:
                self.packet = number

    def finish(self, rule: Rule) -> None:
        if self.mode is None:
            raise _param("statistic: option \"--mode\" must be specified")
        if self.probability is not None and self.mode != "random":
            raise _param("--probability can only be used in random mode")
        if (self.every is not None or self.packet is not None) and self.mode != "nth":
            raise _param("--every can only be used in nth mode")
        if self.mode == "random" and self.probability is None:
            raise _param("--probability must be specified when using random mode")
        if self.mode == "nth":
            if self.every is None and self.packet is None:
                raise _param("--every and --packet must be specified when using nth mode")
            self.every, self.packet = self.every or 0, self.packet or 0
            if self.packet > self.every:
                raise _param("the --packet p must be 0 <= p <= n-1")
            self.count = self.every - self.packet

    def save(self) -> str:
        bang = " !" if self.inv else ""
        if self.mode == "random":
            return f"--mode random{bang} --probability {self.probability / 0x80000000:.11f}"
        text = f"--mode nth{bang} --every {self.every + 1}"
        return text + (f" --packet {self.packet}" if self.packet else "")

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if self.mode == "random":
            draw = (meta.rng or random).getrandbits(31)
            return (draw < self.probability) != self.inv
        self.count = 0 if self.count == self.every else self.count + 1
        return (self.count == 0) != self.inv
