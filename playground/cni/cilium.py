"""The `cilium` plugin: no bridge; each pod's host-side veth is an `lxc…` device with
Cilium's programs on it, and the node reaches its pods through cilium_host and the
endpoint map (native routing, kube-proxy replacement)."""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv4Network

from playground.cni.base import PodAttachment
from playground.net import vxlan
from playground.net.bpf.cilium import (
    HOST_DEVICE,
    NET_DEVICE,
    TUNNEL_DEVICE,
    CiliumDatapath,
    router_ip,
)
from playground.net.link import stable_mac
from playground.net.netns import Namespace
from playground.net.network import Network
from playground.net.route import Route

TUNNEL_PORT = 8472  # Cilium's VXLAN port, the same as flannel's
# the device has no VNI of its own (external): each packet's VNI is its sender's identity
TUNNEL_VNI = 0


def lxc_name(container_id: str) -> str:
    """`lxc` + 12 hex digits, as Cilium names a pod's host-side veth."""
    return "lxc" + hashlib.sha256(container_id.encode()).hexdigest()[:12]


class CiliumPlugin:
    name = "cilium"
    routing = "cilium"  # its own agent routes to other nodes' pods (auto-direct-node-routes)
    policy = "cilium"  # its agent and endpoint programs enforce NetworkPolicy
    replaces_kube_proxy = True
    tunnel = False
    net_name = "cilium"   # 05-cilium.conflist chains nothing: hostPorts are its BPF's, unmodelled
    chained: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.datapaths: dict[str, CiliumDatapath] = {}
        self.identities = None  # the cluster's security identities, made by the first agent
        self.agents: dict[str, object] = {}  # each node's policy agent, by node namespace

    def datapath(self, network: Network, node_ns: Namespace) -> CiliumDatapath:
        """The node's maps and programs, made on first use by the plugin or the agent."""
        known = self.datapaths.get(node_ns.name)
        if known is None or known.ns is not node_ns:  # a node added again starts afresh
            self.datapaths[node_ns.name] = CiliumDatapath(
                node_ns, network.rng, node_ns.primary_address("eth0"), self.tunnel)
        return self.datapaths[node_ns.name]

    def setup_node(self, network: Network, node_ns: Namespace, pod_cidr: IPv4Network) -> None:
        node_ns.sysctl["net.ipv4.ip_forward"] = "1"
        router = router_ip(pod_cidr)
        network.add_veth(node_ns, HOST_DEVICE, node_ns, NET_DEVICE)
        node_ns.add_address(HOST_DEVICE, f"{router}/32", scope="link")
        node_ns.add_route(Route(IPv4Network(router), dev=HOST_DEVICE, proto="kernel",
                                scope="link"))
        node_ns.add_route(Route(pod_cidr, dev=HOST_DEVICE, via=router, proto="kernel",
                                src=router))
        if self.tunnel:  # external mode: the programs give each packet its remote endpoint
            node_ns.add_device(vxlan.Vxlan(TUNNEL_DEVICE, stable_mac(f"{node_ns.name}/vxlan"),
                                           vni=TUNNEL_VNI, local=node_ns.primary_address("eth0"),
                                           dstport=TUNNEL_PORT, learning=False,
                                           external=True))
        self.datapath(network, node_ns).attach_node()

    def add(self, network, node_ns, pod_ns, ip: IPv4Address, pod_cidr: IPv4Network,
            container_id: str) -> PodAttachment:
        router = router_ip(pod_cidr)
        name = lxc_name(container_id)
        pod_end, host_end = network.add_veth(pod_ns, "eth0", node_ns, name)
        if self.tunnel:  # room for the VXLAN headers the packet may get on the way
            pod_end.mtu = host_end.mtu = node_ns.device("eth0").mtu - vxlan.OVERHEAD
        pod_ns.add_address("eth0", f"{ip}/32")
        pod_ns.add_route(Route(IPv4Network(router), dev="eth0", scope="link"))
        pod_ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=router))
        pod_ns.cgroup = node_ns.cgroup  # the pod's containers live in the node's cgroup tree
        self.datapath(network, node_ns).add_endpoint(ip, name, pod_end.mac)
        return PodAttachment(ip, name)

    def delete(self, network, node_ns, pod_ns, attachment: PodAttachment) -> None:
        self.datapath(network, node_ns).remove_endpoint(attachment.ip)
        if attachment.host_veth in node_ns.devices:
            node_ns.remove_device(attachment.host_veth)


class CiliumTunnelPlugin(CiliumPlugin):
    """`cilium-vxlan`: the same, with pods of other nodes reached through a VXLAN tunnel
    (routingMode=tunnel, tunnelProtocol=vxlan) instead of native routes."""

    name = "cilium-vxlan"
    tunnel = True
