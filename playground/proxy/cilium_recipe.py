"""The Cilium agent as the routing recipe of the Cilium CNIs: on every node it routes to the
other nodes' pods and serves Services in BPF, replacing kube-proxy."""

from __future__ import annotations

from playground.cluster.routing import Routing
from playground.net.netns import Namespace
from playground.proxy.cilium import CiliumAgent


class CiliumRouting(Routing):
    """The Cilium agent on every node: routes to other nodes' pods, and Services in BPF."""

    name = "cilium"

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [CiliumAgent(w.api, w.network, node, ns, w.cluster_cidr, w.cni)]
