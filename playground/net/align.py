"""Line up two traces of the same packet, hop against hop, and say where they differ.

Two hops are the same step when they happen in the same place at the same stage: the same
namespace, the same kind of event and, for netfilter, the same table and hook. The longest
common run of such steps is matched (difflib, no junk heuristics, so the result depends on
the traces alone); in between, hops in the same place are paired as differing steps, and
the rest stand alone as what only one dataplane did.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from difflib import SequenceMatcher

from playground.net.packet import Packet
from playground.net.trace import Hop, Trace

SAME, DIFFERS, ONLY_LEFT, ONLY_RIGHT = "same", "differs", "only-left", "only-right"
# what two paired hops are compared on, in the order a reader meets them
ASPECTS = ("event", "device", "route", "rule", "rewrite", "conntrack", "detail")


@dataclass(frozen=True, slots=True)
class Row:
    left: Hop | None
    right: Hop | None
    status: str
    differs: tuple[str, ...] = ()  # the ASPECTS in which a paired row differs

    @property
    def paired(self) -> bool:
        return self.left is not None and self.right is not None


def stage(hop: Hop) -> str:
    """Where in the stack a hop sits, beyond its event: a netfilter hook's table and hook."""
    if hop.table and hop.detail.startswith(f"{hop.table} "):
        return " ".join(hop.detail.split(":", 1)[0].split()[:2])
    return ""


def step_key(hop: Hop) -> tuple[str, str, str, str]:
    return (hop.role, hop.where, hop.event, stage(hop))


def place_key(hop: Hop) -> tuple[str, str]:
    return (hop.role, hop.where)


def rewrite(hop: Hop) -> tuple:
    """What the hop changed in the packet, field by field (nothing: an empty tuple)."""
    before, after = hop.packet_before, hop.packet_after
    return tuple((f.name, getattr(after, f.name)) for f in fields(Packet)
                 if getattr(before, f.name) != getattr(after, f.name))


def _aspect(hop: Hop, aspect: str):
    if aspect == "device":
        return (hop.dev_in, hop.dev_out)
    if aspect == "rule":
        return (hop.rule, hop.chain, tuple(hop.matched_rules))
    if aspect == "rewrite":
        return rewrite(hop)
    return getattr(hop, aspect)


def differences(left: Hop, right: Hop) -> tuple[str, ...]:
    return tuple(a for a in ASPECTS if _aspect(left, a) != _aspect(right, a))


def _pair(left: Hop, right: Hop) -> Row:
    differ = differences(left, right)
    return Row(left, right, DIFFERS if differ else SAME, differ)


def _matcher(a: list, b: list) -> SequenceMatcher:
    return SequenceMatcher(None, a, b, autojunk=False)


def _unmatched(left: list[Hop], right: list[Hop]) -> list[Row]:
    """A stretch with no common step: pair what happens in the same place, in order."""
    rows: list[Row] = []
    matcher = _matcher([place_key(h) for h in left], [place_key(h) for h in right])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(_pair(a, b) for a, b in zip(left[i1:i2], right[j1:j2], strict=True))
            continue
        rows.extend(Row(hop, None, ONLY_LEFT) for hop in left[i1:i2])
        rows.extend(Row(None, hop, ONLY_RIGHT) for hop in right[j1:j2])
    return rows


def align(left: Trace, right: Trace) -> list[Row]:
    """Every hop of both traces, once each and in its own order, as aligned rows."""
    rows: list[Row] = []
    matcher = _matcher([step_key(h) for h in left.hops], [step_key(h) for h in right.hops])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(_pair(a, b) for a, b in zip(left.hops[i1:i2], right.hops[j1:j2],
                                                    strict=True))
        else:
            rows.extend(_unmatched(left.hops[i1:i2], right.hops[j1:j2]))
    return rows


def outcome(trace: Trace) -> str:
    """The verdict in a few words, for the line under each column."""
    if trace.delivered_to is not None:
        return (f"delivered to {trace.delivered_to.owner} in {trace.delivered_to.namespace} "
                f"after {len(trace.hops)} hops")
    return f"{trace.verdict} after {len(trace.hops)} hops: {trace.reason}"
