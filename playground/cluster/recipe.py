"""Dataplane recipes: the adapters a cluster is assembled from, each found by name.

How a CNI routes between nodes, a kube-proxy mode, a load-balancer provider (and next, a
policy engine) are recipes. Each is built the same way, from the cluster's Wiring, and
says two things: which cluster-wide controllers it adds and which agents it starts on
every node. The Cluster only asks its recipes; it never tests which one it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from playground.cluster.api import ApiServer
from playground.net.netns import Namespace
from playground.net.network import Network


@dataclass(frozen=True, slots=True)
class Wiring:
    """What every recipe of one cluster is built with."""

    api: ApiServer
    network: Network
    cluster_cidr: IPv4Network
    cni: Any   # the cluster's CNI plugin (playground.cni.base.CniPlugin)


class Recipe:
    """The one shape of every recipe; a subclass overrides what it adds."""

    name = ""
    kinds: tuple[str, ...] = ()   # the API kinds it brings (its CRDs), known while it runs
    gateway_controllers: tuple[str, ...] = ()   # controllerNames of Gateway controllers it runs

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring

    def controllers(self) -> list:
        """Cluster-wide controllers, started with the control plane."""
        return []

    def derived_controllers(self) -> list:
        """Cluster-wide controllers of derived state: a loaded lab starts them once every
        saved object is back, so they sync each object once."""
        return []

    def node_agents(self, node: str, ns: Namespace) -> list:
        """The agents this recipe runs on one node, started when the node is built."""
        return []

    def node_network_addresses(self) -> set:
        """The addresses this recipe's own machines hold on the node network (a load
        balancer's containers), which a node joining later must not be given."""
        return set()

    def proxied(self, cluster, trace) -> Any:
        """When `trace` ended at a userspace proxy this recipe runs (a load balancer's
        Envoy), the connection that proxy opens on its behalf: a playground.cluster.legs
        Leg, else None."""
        return None
