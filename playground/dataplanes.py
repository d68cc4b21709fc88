"""The same lab on another dataplane, and the same packet sent through both.

A clone is what loading a lab file does, with one setting changed: the API objects go into
a fresh cluster with the other CNI or kube-proxy mode and the same seed, the controllers
settle, and the journal runs again. Sent from the same random state, the packet keeps its
source port and kube-proxy's random picks, so only the dataplane differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from playground.cluster.cluster import ClusterError
from playground.cluster.columns import encode_tables
from playground.cluster.dataplane import Dataplane
from playground.cluster.restore import saved_objects
from playground.cluster.service import ServiceStatus
from playground.net.align import Row, align
from playground.net.trace import Trace
from playground.saves import LabFileError, build_lab, lab_document
from playground.session.lab import Lab
from playground.shell import ShellError


@dataclass
class SideBySide:
    """One packet through two dataplanes, lined up."""

    left: Dataplane
    right: Dataplane
    left_trace: Trace
    right_trace: Trace
    rows: list[Row]
    skipped: tuple[str, ...] = ()  # journal lines the copy could not run on its dataplane

    @classmethod
    def of(cls, left: Dataplane, right: Dataplane, left_trace: Trace, right_trace: Trace,
           skipped: list[str] | tuple[str, ...] = ()) -> SideBySide:
        return cls(left, right, left_trace, right_trace, align(left_trace, right_trace),
                   tuple(skipped))

    def caveat(self) -> str:
        """One line on what the copy could not do again, or nothing."""
        if not self.skipped:
            return ""
        return (f"on {self.right}, the copy could not run again: "
                + "; ".join(self.skipped))


async def clone_lab(lab: Lab, plane: Dataplane, before: int | None = None) -> Lab:
    """The lab rebuilt on `plane`. With `before`, only the journal up to that action runs
    again, and the clone stands where the lab stood just before it (clock, random state)."""
    try:
        document = lab_document(lab)
        document["settings"] = plane.settings(document["settings"])
        if plane.lb != lab.cluster.lb.name:
            document["objects"] = encode_tables(_unassigned(saved_objects(lab.cluster)))
        document["lesson"] = None
        if before is not None:
            action = lab.history[before]
            document["history"] = document["history"][:before]
            document["settings"]["rng"] = list(action.start[1])
            document["settings"]["clock"] = float(action.clock)
        clone = await build_lab(document)
    except LabFileError as error:
        raise ClusterError(f"the lab cannot be rebuilt on {plane}: {error}") from None
    if Dataplane.of(clone.cluster) != plane:  # a setting the lab files do not carry yet
        await clone.close()
        raise ClusterError(f"the lab cannot be rebuilt on {plane}: a lab file does not keep "
                           "that setting")
    return clone


def _unassigned(objects: list) -> list:
    """The objects with every Service's load-balancer status cleared: another provider hands
    out its own addresses and does not take over the old one's."""
    return [replace(o, status=ServiceStatus()) if o.kind == "Service" else o for o in objects]


def find_action(lab: Lab, trace: Trace) -> tuple[int, int]:
    """Which journal action sent this trace, and which of its traces it is."""
    for number, action in enumerate(lab.history):
        for leg, sent in enumerate(action.traces):
            if sent is trace:
                return number, leg
    raise ClusterError("this packet is not in the lab's journal: send it again first")


async def compare_trace(lab: Lab, trace: Trace, plane: Dataplane) -> SideBySide:
    """Send `trace`'s packet again, the same way, in a clone of the lab on `plane`."""
    number, leg = find_action(lab, trace)
    action = lab.history[number]
    clone = await clone_lab(lab, plane, before=number)
    try:
        try:
            result = await clone.run(action.line, action.selected)
        except (ShellError, ClusterError) as error:
            raise ClusterError(f"on {plane}: {action.line}: {error}") from None
        traces = result.traces or ([result.trace] if result.trace else [])
        if leg >= len(traces):
            raise ClusterError(f"on {plane}, {action.line!r} sent {len(traces)} packets, "
                               f"not {leg + 1}")
        comparison = SideBySide.of(Dataplane.of(lab.cluster), plane, trace, traces[leg],
                                   clone.skipped)
    finally:
        await clone.close()
    lab.compared.append(comparison)
    return comparison


def last_packet(lab: Lab) -> Trace:
    """The first packet of the last command that sent any."""
    for action in reversed(lab.history):
        if action.traces:
            return action.traces[0]
    raise ClusterError("nothing to compare: trace a packet first")


async def compare_line(lab: Lab, line: str, trace: Trace | None = None) -> SideBySide:
    """`compare CNI[/PROXY_MODE]`: `trace` (else the last packet) on that dataplane too."""
    words = line.split()
    if len(words) != 2 or words[0] != "compare":
        raise ClusterError("compare CNI[/PROXY_MODE]: name one dataplane, e.g. compare ptp")
    try:
        plane = Dataplane.parse(words[1])
    except ValueError as error:
        raise ClusterError(str(error)) from None
    return await compare_trace(lab, trace or last_packet(lab), plane)
