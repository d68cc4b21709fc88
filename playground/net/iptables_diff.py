"""Two iptables-save dumps compared as sets of rules per table: what one has that the other
lacks (counters, comments and the order of chains left out; a chain's policy kept)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COUNTERS = re.compile(r"^\[\d+:\d+\] ")


class DumpError(ValueError):
    pass


def entries(text: str, where: str) -> set[tuple[str, str]]:
    """(table, line) for every chain header (without its counters) and rule of a dump."""
    found: set[tuple[str, str]] = set()
    table = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COUNTERS.sub("", raw.strip())
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:]
        elif table is None:
            raise DumpError(f"{where}: line {number}: {line[:40]!r} before any *table: "
                            "not iptables-save output")
        elif line.startswith(":"):
            name, policy = (line[1:].split() + ["-"])[:2]
            found.add((table, f":{name} {policy}"))
        elif line.startswith("-A "):
            found.add((table, line))
        else:
            raise DumpError(f"{where}: line {number}: {line[:40]!r} is not a chain or a rule")
    if table is None:
        raise DumpError(f"{where}: no *table in it: not iptables-save output")
    return found


@dataclass
class Difference:
    agree: int
    only_real: list[tuple[str, str]] = field(default_factory=list)
    only_model: list[tuple[str, str]] = field(default_factory=list)


def compare(real: str, model: str, where: str) -> Difference:
    mine, theirs = entries(model, "the model"), entries(real, where)
    return Difference(len(mine & theirs), sorted(theirs - mine), sorted(mine - theirs))
