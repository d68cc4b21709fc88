"""What every CNI plugin does for a node and for each pod (one protocol, one module each)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol

from playground.net.netns import Namespace
from playground.net.network import Network


@dataclass(frozen=True, slots=True)
class PortMapping:
    """One entry of the runtime config's portMappings, as kubelet passes it."""

    host_port: int
    container_port: int
    protocol: str   # lower case, as the CRI writes it
    host_ip: str = ""


@dataclass(frozen=True, slots=True)
class PodAttachment:
    """What CNI ADD returns: the pod's address and the node-side device."""

    ip: IPv4Address
    host_veth: str


class CniPlugin(Protocol):
    name: str
    # which node agents route to other nodes' pods: a recipe in playground.registry.ROUTINGS
    routing: str
    # who enforces NetworkPolicy on its pods: an engine in playground.registry.POLICY_ENGINES
    policy: str
    # the plugin's own agents serve Services, so no kube-proxy runs beside it and a cluster
    # with it takes no proxy mode (Cilium's kube-proxy replacement)
    replaces_kube_proxy: bool
    # the conflist's name and the meta plugins it chains after this one (playground.cni.META)
    net_name: str
    chained: tuple[str, ...]

    def setup_node(self, network: Network, node_ns: Namespace, pod_cidr: IPv4Network) -> None:
        """Prepare the node once its pod CIDR is known."""

    def add(self, network: Network, node_ns: Namespace, pod_ns: Namespace,
            ip: IPv4Address, pod_cidr: IPv4Network, container_id: str) -> PodAttachment:
        """Wire a pod's namespace to the node (CNI ADD)."""

    def delete(self, network: Network, node_ns: Namespace, pod_ns: Namespace,
               attachment: PodAttachment) -> None:
        """Undo `add` (CNI DEL)."""


def host_veth_name(container_id: str) -> str:
    """`veth` + 8 hex digits, as the reference plugins name the host end, but stable."""
    return "veth" + hashlib.sha256(container_id.encode()).hexdigest()[:8]


def sandbox_id(container_id: str) -> str:
    """The 64 hex digits a container runtime names a pod sandbox by, here stable."""
    return hashlib.sha256(container_id.encode()).hexdigest()
