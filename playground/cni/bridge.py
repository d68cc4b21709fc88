"""The `bridge` plugin: every pod's veth enslaved to cni0, which holds the gateway address."""

from __future__ import annotations

import functools
from ipaddress import IPv4Address, IPv4Network

from playground.cni.base import PodAttachment, host_veth_name
from playground.net.link import Bridge, stable_mac
from playground.net.netns import Namespace
from playground.net.network import Network
from playground.net.route import Route

BRIDGE = "cni0"


@functools.lru_cache(maxsize=1024)
def _default_route(pod_cidr: IPv4Network) -> Route:
    """A pod's default route via the bridge: the same immutable route for a node's pods."""
    return Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=pod_cidr.network_address + 1)


class BridgePlugin:
    name = "bridge"
    routing = "kindnet"  # who routes to the other nodes' pod CIDRs
    policy = "none"  # the reference bridge plugin enforces no NetworkPolicy
    replaces_kube_proxy = False
    net_name = "kindnet"   # kindnet's conflist: the plugin, then portmap
    chained = ("portmap",)

    def mtu(self, node_ns: Namespace) -> int:
        """The MTU of cni0 and the pods' veths (the plugin's `mtu`, default the link's)."""
        return 1500

    def setup_node(self, network: Network, node_ns: Namespace, pod_cidr: IPv4Network) -> None:
        node_ns.sysctl["net.ipv4.ip_forward"] = "1"

    def ensure_bridge(self, node_ns: Namespace, pod_cidr: IPv4Network) -> Bridge:
        """Created on the first pod, as the plugin does (isGateway: the bridge gets .1)."""
        existing = node_ns.devices.get(BRIDGE)
        if isinstance(existing, Bridge):
            return existing
        bridge = Bridge(BRIDGE, stable_mac(f"{node_ns.name}/{BRIDGE}"), mtu=self.mtu(node_ns))
        node_ns.add_device(bridge)
        node_ns.add_address(BRIDGE, f"{pod_cidr.network_address + 1}/{pod_cidr.prefixlen}")
        return bridge

    def add(self, network, node_ns, pod_ns, ip: IPv4Address, pod_cidr: IPv4Network,
            container_id: str) -> PodAttachment:
        bridge = self.ensure_bridge(node_ns, pod_cidr)
        name = host_veth_name(container_id)
        pod_end, host_end = network.add_veth(pod_ns, "eth0", node_ns, name)
        pod_end.mtu = host_end.mtu = bridge.mtu
        bridge.enslave(host_end, hairpin=True)  # kubelet's hairpin mode, so a pod can reach itself
        pod_ns.add_address("eth0", f"{ip}/{pod_cidr.prefixlen}")
        pod_ns.add_route(_default_route(pod_cidr))
        return PodAttachment(ip, name)

    def delete(self, network, node_ns, pod_ns, attachment: PodAttachment) -> None:
        if attachment.host_veth in node_ns.devices:
            node_ns.remove_device(attachment.host_veth)
