"""The Service proxies a lab can run, by the name `--proxy-mode` takes (a new mode: its
module and one line in playground/adapters.py)."""

from __future__ import annotations

from playground.cluster.recipe import Recipe, Wiring
from playground.net.netns import Namespace
from playground.proxy.iptables import KubeProxy
from playground.proxy.ipvs import IpvsProxy
from playground.proxy.service_table import ServiceTable


class IptablesMode(Recipe):
    """kube-proxy in iptables mode: the service chains computed once for the cluster (a
    controller of derived state) and, on every node, the agent that shows them."""

    name = "iptables"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.table = ServiceTable(wiring.api, wiring.cluster_cidr)

    def derived_controllers(self) -> list:
        return [self.table]

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [KubeProxy(w.api, node, ns, w.cluster_cidr, self.table)]


class IpvsMode(Recipe):
    """kube-proxy in IPVS mode: every node's proxier syncs its own virtual servers."""

    name = "ipvs"

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [IpvsProxy(w.api, node, ns, w.cluster_cidr)]

