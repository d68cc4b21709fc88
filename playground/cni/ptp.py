"""The `ptp` plugin as kindnet uses it: no bridge, one /32 host route per pod."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cni.base import PodAttachment, host_veth_name
from playground.net.route import Route


class PtpPlugin:
    name = "ptp"
    routing = "kindnet"
    policy = "kube-network-policies"  # kindnetd runs it since kind v0.24
    replaces_kube_proxy = False
    net_name = "kindnet"   # kindnet's conflist: the plugin, then portmap
    chained = ("portmap",)

    def setup_node(self, network, node_ns, pod_cidr: IPv4Network) -> None:
        node_ns.sysctl["net.ipv4.ip_forward"] = "1"

    def add(self, network, node_ns, pod_ns, ip: IPv4Address, pod_cidr: IPv4Network,
            container_id: str) -> PodAttachment:
        gateway = pod_cidr.network_address + 1
        name = host_veth_name(container_id)
        network.add_veth(pod_ns, "eth0", node_ns, name)
        # the host end carries the gateway address, so the pod's ARP for it gets an answer
        node_ns.add_address(name, f"{gateway}/32")
        node_ns.add_route(Route(IPv4Network(ip), dev=name, scope="host"))
        pod_ns.add_address("eth0", f"{ip}/{pod_cidr.prefixlen}")
        pod_ns.main.delete(pod_cidr, dev="eth0")
        pod_ns.add_route(Route(IPv4Network(gateway), dev="eth0", scope="link", src=ip))
        pod_ns.add_route(Route(pod_cidr, dev="eth0", via=gateway, src=ip))
        pod_ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=gateway))
        return PodAttachment(ip, name)

    def delete(self, network, node_ns, pod_ns, attachment: PodAttachment) -> None:
        if attachment.host_veth in node_ns.devices:
            node_ns.remove_device(attachment.host_veth)
