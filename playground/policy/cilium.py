"""The `cilium` NetworkPolicy engine: the Cilium agent on every node computes identities
and per-endpoint policy maps, and the endpoint programs enforce them (egress at the
source's from-container, ingress at the destination's to-container); its hops speak."""

from __future__ import annotations

from playground.cluster.netpol.engine import PolicyEngine
from playground.net.netns import Namespace
from playground.proxy.cilium_policy_agent import CiliumPolicyAgent


class CiliumPolicyEngine(PolicyEngine):
    name = "cilium"

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [CiliumPolicyAgent(w.api, w.network, node, ns, w.cni)]
