"""The shape of a NetworkPolicy engine: a recipe (controllers, node agents) the cluster
builds from its Wiring by the CNI plugin's `policy` name, plus what the app says of it."""

from __future__ import annotations

from playground.cluster.netpol.view import Peer, PolicyView
from playground.cluster.recipe import Recipe


class PolicyEngine(Recipe):
    name = ""
    enforces = True   # False: policies are stored and shown, and nothing acts on them

    def status(self) -> str:
        """What `describe networkpolicy` and the objects tree add about enforcement."""
        return "" if self.enforces else "not enforced by this CNI"

    def trace_notes(self, view: PolicyView, src: Peer, dst: Peer, protocol: str,
                    port: int) -> list[str]:
        """Lines a trace of this connection adds; an enforcing engine's own hops speak."""
        return []
