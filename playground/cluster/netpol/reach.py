"""The reachability matrix: every pod to every pod on one protocol and port, decided by the
evaluator, printed as Kubernetes' NetworkPolicy e2e tests print their truth tables
(test/e2e/network/netpol/truthtable.go: `.` connects, `X` is blocked)."""

from __future__ import annotations

from dataclasses import dataclass

from playground.cluster.netpol.evaluate import Decision, decide
from playground.cluster.netpol.view import Peer, PolicyView


@dataclass
class Matrix:
    pods: list[Peer]           # in namespace order, then by name
    protocol: str
    port: int
    cells: dict[tuple[str, str], Decision]

    def allowed(self, src: str, dst: str) -> bool:
        return self.cells[(src, dst)].allowed

    def changed(self, before: Matrix) -> list[tuple[str, str]]:
        """The cells whose verdict differs from `before` (same pods, same port)."""
        return [key for key, d in self.cells.items()
                if key in before.cells and before.cells[key].allowed != d.allowed]


def matrix(view: PolicyView, protocol: str = "TCP", port: int = 80,
           namespaces: list[str] | None = None) -> Matrix:
    pods = sorted((p for p in view.pods if namespaces is None or p.namespace in namespaces),
                  key=lambda p: (p.namespace, p.name))
    cells = {(str(src), str(dst)): decide(view, src, dst, protocol, port)
             for src in pods for dst in pods}
    return Matrix(pods, protocol.upper(), port, cells)


def truth_table(found: Matrix, marked: set[tuple[str, str]] = frozenset()) -> str:
    """Rows are sources, columns destinations; a blank line between namespaces' rows;
    `marked` cells are starred (*X*), as the e2e comments star a changed one."""
    names = [str(p) for p in found.pods]
    width = max([len(n) for n in names] + [3]) + 2
    lines = ["-".ljust(width) + "".join(n.ljust(width) for n in names).rstrip()]
    previous = None
    for src in found.pods:
        if previous is not None and src.namespace != previous:
            lines.append("")
        previous = src.namespace
        cells = []
        for dst in names:
            mark = "." if found.allowed(str(src), dst) else "X"
            cells.append((f"*{mark}*" if (str(src), dst) in marked else mark).ljust(width))
        lines.append(str(src).ljust(width) + "".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def to_dict(found: Matrix, enforced: bool = True) -> dict:
    """`allowed` is what the dataplane does, `policy_allows` what the policies decide (they
    differ on a CNI that enforces nothing)."""
    return {"protocol": found.protocol, "port": found.port, "enforced": enforced,
            "pods": [str(p) for p in found.pods],
            "cells": [{"from": src, "to": dst, "allowed": d.allowed or not enforced,
                       "policy_allows": d.allowed,
                       "egress": _verdict(d.egress), "ingress": _verdict(d.ingress)}
                      for (src, dst), d in found.cells.items()]}


def _verdict(verdict) -> dict:
    return {"selecting": list(verdict.selecting),
            "allowed_by": str(verdict.allowed_by) if verdict.allowed_by else None,
            "why": verdict.why}
