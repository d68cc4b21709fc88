"""The engine of CNIs that enforce no NetworkPolicy (the bridge plugin, flannel): the API
stores policies, nothing on the nodes reads them, and a trace says so where it matters."""

from __future__ import annotations

from playground.cluster.netpol.engine import PolicyEngine
from playground.cluster.netpol.evaluate import decide
from playground.cluster.netpol.view import Peer, PolicyView


class NoPolicyEngine(PolicyEngine):
    name = "none"
    enforces = False

    def trace_notes(self, view: PolicyView, src: Peer, dst: Peer, protocol: str,
                    port: int) -> list[str]:
        decision = decide(view, src, dst, protocol, port)
        cni = self.wiring.cni.name
        notes = []
        for verdict, pod in ((decision.egress, src), (decision.ingress, dst)):
            for policy in verdict.selecting:
                notes.append(f"{policy} selects pod {pod.name} but the {cni} CNI enforces "
                             "no NetworkPolicy")
        if not decision.allowed:
            notes.append(f"enforced, the policies would drop it: {decision.why}")
        return notes
