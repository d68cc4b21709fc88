"""The verify table: one row per probe, what the model allows, what the kernel did."""

from __future__ import annotations

from playground.verify.compare import Comparison, Observation
from playground.verify.predict import Outcome

HEADER = ("PROBE", "MODEL", "KERNEL", "")


def row(result: Comparison) -> list[str]:
    return [result.probe.label, _model(result.outcomes), _kernel(result.observed),
            "ok" if result.ok else "MISMATCH"]


def _model(outcomes: list[Outcome]) -> str:
    results = sorted({o.result for o in outcomes})
    servers = sorted({_short(o.server) for o in outcomes if o.server})
    seen = sorted({str(o.peer[0]) for o in outcomes if o.peer})
    text = "|".join(results)
    if servers:
        text += f" {'|'.join(servers)} saw {'|'.join(seen)}"
    return text


def _kernel(observed: Observation) -> str:
    if observed.result != "reached":
        return observed.result
    return f"reached {_short(observed.server)} saw {observed.peer[0]}"


def _short(namespace: str | None) -> str:
    """`pod/default/web-1` → `web-1`; other namespaces as they are."""
    if namespace and namespace.startswith("pod/"):
        return namespace.rsplit("/", 1)[1]
    return namespace or "-"


def line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def table(results: list[Comparison]) -> str:
    rows = [list(HEADER)] + [row(r) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = []
    for cells, result in zip(rows, [None, *results], strict=True):
        out.append(line(cells, widths))
        if result is not None:
            out += [f"    - {problem}" for problem in result.problems]
    return "\n".join(out) + "\n"


def summary(results: list[Comparison], cni: str) -> str:
    bad = sum(not r.ok for r in results)
    return (f"{len(results)} probes, {bad} mismatch{'es' if bad != 1 else ''} "
            f"({cni} CNI, real kernel vs model)\n")
