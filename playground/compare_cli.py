"""`k8s-playground trace SRC DST --compare SPEC`: the same packet through two dataplanes."""

from __future__ import annotations

import json
import shutil

from playground.cluster.dataplane import Dataplane
from playground.cluster.legs import legs
from playground.cluster.manifests import apply_files
from playground.dataplanes import SideBySide, clone_lab
from playground.headless import UsageError, lab_files, starting_lab, trace_request
from playground.net.align_text import side_by_side

MIN_WIDTH = 40


def row_dict(row, index_of) -> dict:
    return {"status": row.status, "differs": list(row.differs),
            "left": index_of(row.left), "right": index_of(row.right)}


def as_json(comparisons: list[SideBySide]) -> str:
    first = comparisons[0]
    return json.dumps({
        "dataplanes": [str(first.left), str(first.right)],
        "skipped": list(first.skipped),
        "legs": [{"left": c.left_trace.to_dict(), "right": c.right_trace.to_dict(),
                  "rows": [row_dict(r, lambda hop: hop.index if hop else None)
                           for r in c.rows]} for c in comparisons],
    }, indent=2)


async def compare_traces(args) -> int:
    if not args.compare:
        raise UsageError("trace: --width goes with --compare")
    width = args.width or shutil.get_terminal_size((160, 24)).columns
    if width < MIN_WIDTH:
        raise UsageError(f"trace: --width must be at least {MIN_WIDTH}")
    plane = Dataplane.parse(args.compare)
    lab = await starting_lab(args)
    clone = None
    try:
        await apply_files(lab.cluster, [f for f in args.filename if f not in
                                        lab_files(args.filename)])
        clone = await clone_lab(lab, plane)
        for cluster in (lab.cluster, clone.cluster):
            for setting in args.sysctl:
                cluster.set_node_sysctl(setting)
        request = trace_request(args)
        left, right = legs(lab.cluster, request), legs(clone.cluster, request)
        here = Dataplane.of(lab.cluster)
        comparisons = [SideBySide.of(here, plane, a.trace, b.trace, clone.skipped)
                       for a, b in zip(left, right, strict=False)]
        if args.json:
            print(as_json(comparisons))
            return 0
        names = (str(here), str(plane))
        if names[0] == names[1]:
            names = (f"{names[0]} (this lab)", f"{names[1]} (a clone)")
        for leg, comparison in zip(left, comparisons, strict=False):
            if leg.title:
                print(f"\n{leg.title}\n")
            print(side_by_side(comparison.rows, comparison.left_trace,
                               comparison.right_trace, names, width), end="")
        if comparisons[0].caveat():
            print(f"\n{comparisons[0].caveat()}")
        if len(left) != len(right):
            print(f"\n{names[0]} sent {len(left)} packets and {names[1]} {len(right)}: only "
                  "the first ones are compared")
        return 0
    finally:
        if clone is not None:
            await clone.close()
        await lab.close()
