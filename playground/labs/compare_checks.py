"""What a task's check looks at when the lesson is about dataplanes: the packets the learner
sent again on another dataplane (compare mode), and how the two walks differed."""

from __future__ import annotations

from collections.abc import Callable

from playground.dataplanes import SideBySide
from playground.labs.checks import address_of, nat_walk, place_of
from playground.net.align import ONLY_LEFT, ONLY_RIGHT
from playground.session.lab import Lab

ComparisonPredicate = Callable[[SideBySide], bool]


def compared(lab: Lab, src: str, dst: str, plane: str,
             *conditions: ComparisonPredicate) -> bool:
    """A packet from `src` to `dst`'s address was compared with the dataplane `plane`
    (as written: `ptp`, `bridge/ipvs`) and the comparison meets all `conditions`."""
    source, address = place_of(lab, src), address_of(lab, dst)
    return any(str(c.right) == plane and c.left_trace.source == source
               and c.left_trace.packet.dst == address and all(cond(c) for cond in conditions)
               for c in lab.compared)


def walks_compared(lab: Lab, src: str, dst: str, plane: str) -> list[int]:
    """The rules walked to the DNAT on `plane`'s side of each comparison, oldest first."""
    source, address = place_of(lab, src), address_of(lab, dst)
    walks = [nat_walk(c.right_trace) for c in lab.compared
             if str(c.right) == plane and c.left_trace.source == source
             and c.left_trace.packet.dst == address]
    return [walk for walk in walks if walk is not None]


def walk_stayed_flat(lab: Lab, src: str, dst: str, plane: str, grown_by: int) -> bool:
    """Two comparisons where the lab's own walk grew by at least `grown_by` rules while
    `plane`'s walk stayed the same length."""
    source, address = place_of(lab, src), address_of(lab, dst)
    pairs = [(nat_walk(c.left_trace), nat_walk(c.right_trace)) for c in lab.compared
             if str(c.right) == plane and c.left_trace.source == source
             and c.left_trace.packet.dst == address]
    pairs = [(left, right) for left, right in pairs if left is not None and right is not None]
    return any(later[0] - first[0] >= grown_by and later[1] == first[1]
               for index, first in enumerate(pairs) for later in pairs[index + 1:])


# conditions on one comparison

def same_end(c: SideBySide) -> bool:
    """Both walks delivered the packet to the same socket in the same place."""
    return c.left_trace.verdict == "delivered" and \
        c.left_trace.delivered_to == c.right_trace.delivered_to


def delivered_on_both(c: SideBySide) -> bool:
    """Both walks ended at a socket, not necessarily the same one (another dataplane may
    pick another endpoint)."""
    return c.left_trace.verdict == c.right_trace.verdict == "delivered"


def only_on_right(event: str, rewriting: bool = False) -> ComparisonPredicate:
    """The other dataplane took a step of this kind that the lab's own did not (and with
    `rewriting`, that step changed the packet)."""
    return lambda c: any(r.status == ONLY_RIGHT and r.right.event == event
                         and (r.right.rewrote or not rewriting) for r in c.rows)


def on_right(event: str, rewriting: bool = False) -> ComparisonPredicate:
    """The other dataplane took a step of this kind (and with `rewriting`, one that changed
    the packet), whether or not the lab's own took one in its place."""
    return lambda c: any(r.right is not None and r.right.event == event
                         and (r.right.rewrote or not rewriting) for r in c.rows)


def only_on_left(event: str, rewriting: bool = False) -> ComparisonPredicate:
    """The lab's own dataplane took a step of this kind that the other did not."""
    return lambda c: any(r.status == ONLY_LEFT and r.left.event == event
                         and (r.left.rewrote or not rewriting) for r in c.rows)


def same_translation(c: SideBySide) -> bool:
    """A nat rule rewrote the packet on both sides, by the same rule to the same address."""
    return any(r.paired and r.left.table == "nat" and r.left.rewrote and r.right.rewrote
               and "rule" not in r.differs and "rewrite" not in r.differs for r in c.rows)


def differs_in(aspect: str) -> ComparisonPredicate:
    """Some step both took, they took differently in this aspect (device, route, rule ...)."""
    return lambda c: any(aspect in r.differs for r in c.rows)


def right_ends_at(owner: str) -> ComparisonPredicate:
    """The other dataplane's walk ended at a socket of this program (a proxy such as
    cloud-provider-kind's Envoy ends the connection there and opens its own)."""
    return lambda c: c.right_trace.verdict == "delivered" and \
        c.right_trace.delivered_to is not None and c.right_trace.delivered_to.owner == owner
