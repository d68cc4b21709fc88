"""The Service proxies a lab can run, by the name `--proxy-mode` takes (a new mode: its
module and one line in playground/adapters.py)."""

from __future__ import annotations

from playground.cluster.recipe import Recipe, Wiring
from playground.net.netns import Namespace
from playground.proxy.iptables import KubeProxy
from playground.proxy.ipvs import IpvsProxy
from playground.proxy.nft_table import NftServiceTable
from playground.proxy.nftables import NftKubeProxy
from playground.proxy.service_table import ServiceTable
from playground.registry import PROXY_MODES


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
    # KEP-5495 and kubernetes/enhancements PR #6120
    deprecation = "deprecated since Kubernetes 1.35: off by default in 1.40, removed in 1.43"

    def node_agents(self, node: str, ns: Namespace) -> list:
        w = self.wiring
        return [IpvsProxy(w.api, node, ns, w.cluster_cidr)]


class NftablesMode(Recipe):
    """kube-proxy in nftables mode: `table ip kube-proxy` computed once for the cluster (a
    controller of derived state), and on every node the agent that sends it to nf_tables."""

    name = "nftables"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.table = NftServiceTable(wiring.api, wiring.cluster_cidr)

    def derived_controllers(self) -> list:
        return [self.table]

    def node_agents(self, node: str, ns: Namespace) -> list:
        return [NftKubeProxy(self.wiring.api, node, ns, self.table)]


def mode_label(name: str) -> str:
    """A mode's name as a chooser shows it: a deprecated one says so."""
    return f"{name} (deprecated)" if getattr(PROXY_MODES[name], "deprecation", "") else name


def modes_help() -> str:
    """The modes for a --proxy-mode help line, with what a deprecated one is heading for."""
    return "; ".join(f"{name} ({PROXY_MODES[name].deprecation})"
                     if getattr(PROXY_MODES[name], "deprecation", "") else name
                     for name in PROXY_MODES)
