"""Aligned traces as text: two columns side by side, or stacked when the terminal is narrow.

The gutter speaks sdiff's language: `|` a step both took differently, `<` a step only the
left took, `>` only the right, nothing when both took it the same way.
"""

from __future__ import annotations

from playground.net.align import DIFFERS, ONLY_LEFT, ONLY_RIGHT, SAME, Row, outcome
from playground.net.trace import Hop, Trace

GUTTER = {SAME: " ", DIFFERS: "|", ONLY_LEFT: "<", ONLY_RIGHT: ">"}
SIDE_BY_SIDE_MIN = 120  # narrower than this, the two traces are stacked row by row
EXTRA_ASPECTS = ("route", "rule", "rewrite", "conntrack")


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def devices(hop: Hop) -> str:
    return "→".join(d for d in (hop.dev_in, hop.dev_out) if d) or "-"


def extras(hop: Hop, row: Row) -> list[str]:
    """The deciding route, rule, rewrite or conntrack entry where the two differ; a rewrite
    always, since what a hop changes in the packet is what a reader looks for."""
    lines = []
    for aspect in EXTRA_ASPECTS:
        if aspect not in row.differs and not (aspect == "rewrite" and hop.rewrote):
            continue
        if aspect == "route" and hop.route:
            lines.append(f"route: {hop.route}")
        elif aspect == "rule" and hop.rule:
            lines.append(f"rule:  {hop.rule}")
        elif aspect == "rewrite" and hop.rewrote:
            lines.append(f"⇒ {hop.packet_after.summary()}")
        elif aspect == "conntrack" and hop.conntrack:
            lines.append(f"ct:    {hop.conntrack}")
    return lines


def summary(rows: list[Row], left: str, right: str) -> str:
    count = {status: sum(r.status == status for r in rows) for status in GUTTER}
    return (f"{len(rows)} steps: {count[SAME]} the same, {count[DIFFERS]} taken differently, "
            f"{count[ONLY_LEFT]} only on {left}, {count[ONLY_RIGHT]} only on {right}")


def heading(trace: Trace, left: str, right: str) -> str:
    return f"trace {trace.packet.summary()} from {trace.source}: {left} and {right} side by side"


def verdicts(left: Trace, right: Trace, names: tuple[str, str]) -> list[str]:
    width = max(len(n) for n in names)
    return [f"{name:<{width}}  {outcome(trace)}" for name, trace in zip(names, (left, right),
                                                                        strict=True)]


def _cell(hop: Hop | None, row: Row, where_width: int) -> list[str]:
    if hop is None:
        return []
    head = f"{hop.index:>3} {hop.where:<{where_width}} {hop.event:<9} {devices(hop)}"
    return [head, f"    {hop.detail}", *(f"    {line}" for line in extras(hop, row))]


def side_by_side(rows: list[Row], left: Trace, right: Trace, names: tuple[str, str],
                 width: int = 160) -> str:
    """Two columns, each headed by its dataplane, every line at most `width` long."""
    if width < SIDE_BY_SIDE_MIN:
        return stacked(rows, left, right, names, width)
    column = (width - 3) // 2
    where_width = max((len(h.where) for h in (*left.hops, *right.hops)), default=5)
    lines = [clip(heading(left, *names), width),
             f"{clip(names[0], column):<{column}}   {clip(names[1], column)}"]
    for row in rows:
        cells = (_cell(row.left, row, where_width), _cell(row.right, row, where_width))
        for number in range(max(len(cells[0]), len(cells[1]))):
            one, two = (clip(c[number], column) if number < len(c) else "" for c in cells)
            lines.append(f"{one:<{column}} {GUTTER[row.status]} {two}".rstrip())
    lines.append(clip(summary(rows, *names), width))
    lines.extend(clip(line, width) for line in verdicts(left, right, names))
    return "\n".join(lines) + "\n"


def stacked(rows: list[Row], left: Trace, right: Trace, names: tuple[str, str],
            width: int = 80) -> str:
    """One aligned row after another, each side on its own lines, for narrow terminals."""
    label_width = max(len(n) for n in names)
    lines = [clip(heading(left, *names), width)]
    for row in rows:
        hop = row.left or row.right
        numbers = "/".join(str(h.index) if h else "-" for h in (row.left, row.right))
        events = " ≠ ".join(dict.fromkeys(h.event for h in (row.left, row.right) if h))
        note = {SAME: "", DIFFERS: f": differs in {', '.join(row.differs)}",
                ONLY_LEFT: f": only on {names[0]}", ONLY_RIGHT: f": only on {names[1]}"}
        lines.append(clip(f"{GUTTER[row.status]} {numbers:>5} {hop.where} {events}"
                          f"{note[row.status]}", width))
        sides = [(names[0], row.left), (names[1], row.right)]
        if row.status == SAME:
            sides = [(" " * label_width, row.left)]
        for name, side in sides:
            if side is None:
                continue
            for text in (f"{devices(side)}  {side.detail}", *extras(side, row)):
                lines.append(clip(f"        {name:<{label_width}}  {text}", width))
    lines.append(clip(summary(rows, *names), width))
    lines.extend(clip(line, width) for line in verdicts(left, right, names))
    return "\n".join(lines) + "\n"
