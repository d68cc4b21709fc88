"""Who routes to other nodes' pods, by a CNI plugin's `routing`: kindnet's route agent or
flanneld (the Cilium agent, which serves Services as well, is playground.proxy's)."""

from __future__ import annotations

from playground.cluster.controllers.flannel import FlannelAgent
from playground.cluster.controllers.routes import NodeRouteAgent, NodeRoutes
from playground.cluster.recipe import Recipe, Wiring
from playground.net.netns import Namespace


class Routing(Recipe):
    """A CNI's node-to-node routing recipe."""

    def published(self, node) -> bool:
        """Whether a Node already carries what this recipe's agent writes into it, so the
        other nodes can do without that agent while the node sleeps (nothing, here)."""
        return True


class KindnetRouting(Routing):
    """A route per other node's pod CIDR via that node, held once for the whole cluster."""

    name = "kindnet"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.shared = NodeRoutes(wiring.api, wiring.network)

    def controllers(self) -> list:
        return [self.shared]

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [NodeRouteAgent(w.api, w.network, node, ns.name, w.cluster_cidr, self.shared)]


class FlannelRouting(Routing):
    """flanneld on every node: a VXLAN tunnel to each node that published its lease."""

    name = "flannel"

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [FlannelAgent(w.api, w.network, node, ns.name, w.cluster_cidr)]

    def published(self, node) -> bool:
        return FlannelAgent.published(node)
