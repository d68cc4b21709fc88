"""One command line the kernel check runs, with what it reads on standard input."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    """One command line, with what it reads on standard input (iptables-restore's rules)."""

    argv: tuple[str, ...]
    stdin: str | None = None

    def shell(self) -> str:
        line = shlex.join(self.argv)
        if self.stdin is None:
            return line
        return f"{line} <<'RULES'\n{self.stdin}RULES"


def in_ns(ns: str, *argv: str, stdin: str | None = None) -> Command:
    return Command(("ip", "netns", "exec", ns, *argv), stdin)
