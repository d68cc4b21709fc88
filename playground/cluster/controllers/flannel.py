"""flanneld with the vxlan backend, on one node.

On its own node it makes flannel.1 and publishes the endpoint in the Node's annotations
(as flannel's kube subnet manager does); for every other Node it reads those annotations
and writes the route, the neighbour entry and the forwarding entry that reach its pods.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.net.link import stable_mac
from playground.net.netns import NetError
from playground.net.network import Network
from playground.net.route import Route, RouteError
from playground.net.vxlan import OVERHEAD, Vxlan

DEVICE = "flannel.1"
VNI = 1
PORT = 8472  # flannel's default, the Linux kernel's pre-IANA VXLAN port
PREFIX = "flannel.alpha.coreos.com/"
BACKEND_DATA = PREFIX + "backend-data"
BACKEND_TYPE = PREFIX + "backend-type"
PUBLIC_IP = PREFIX + "public-ip"
SUBNET_MANAGER = PREFIX + "kube-subnet-manager"
MASQ = '-m comment --comment "flanneld masq"'
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


@dataclass(frozen=True, slots=True)
class Lease:
    """What one node publishes: its pod CIDR and its tunnel endpoint."""

    subnet: IPv4Network
    vtep_mac: str
    public_ip: IPv4Address

    @property
    def gateway(self) -> IPv4Address:
        """flannel.1 holds the subnet's network address; other nodes route via it."""
        return self.subnet.network_address


def lease_of(node) -> Lease | None:
    """The lease in a Node's annotations, or None while it has not published one."""
    notes = node.metadata.annotations
    try:
        mac = json.loads(notes[BACKEND_DATA])["VtepMAC"]
        if not isinstance(mac, str) or not MAC.fullmatch(mac):
            return None
        return Lease(IPv4Network(node.spec.pod_cidr), mac, IPv4Address(notes[PUBLIC_IP]))
    except (KeyError, TypeError, ValueError):
        return None


class FlannelAgent(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, ns_name: str,
                 cluster_cidr: IPv4Network) -> None:
        super().__init__()
        self.api, self.network, self.node, self.ns_name = api, network, node, ns_name
        self.cluster_cidr = cluster_cidr
        self.name = f"flannel/{node}"
        self.installed: dict[str, Lease] = {}

    @property
    def ns(self):
        return self.network.namespace(self.ns_name)

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)

    @staticmethod
    def published(node) -> bool:
        """Whether the Node already carries this agent's lease (a lab saved with flannel)."""
        return lease_of(node) is not None

    def on_node(self, event: Event) -> None:
        node = event.object
        if node.name == self.node:
            if event.type != "DELETED" and node.spec.pod_cidr and node.status.internal_ip:
                self.publish(node)
            return
        self.forget(node.name)
        lease = None if event.type == "DELETED" else lease_of(node)
        if lease is not None and DEVICE in self.ns.devices:
            self.learn(node.name, lease)

    # this node

    def publish(self, node) -> None:
        """Make flannel.1 once, then keep this Node's annotations describing it."""
        subnet = IPv4Network(node.spec.pod_cidr)
        local = IPv4Address(node.status.internal_ip)
        ns = self.ns
        if DEVICE not in ns.devices:
            device = Vxlan(DEVICE, stable_mac(f"{ns.name}/{DEVICE}"),
                           mtu=ns.device("eth0").mtu - OVERHEAD, vni=VNI, local=local,
                           underlay="eth0", dstport=PORT, learning=False)
            ns.add_device(device)
            ns.add_address(DEVICE, f"{subnet.network_address}/32")
            ns.sysctl["net.ipv4.ip_forward"] = "1"
            self.install_masquerade(subnet)
            self.catch_up()
        wanted = {BACKEND_DATA: json.dumps({"VNI": VNI, "VtepMAC": ns.device(DEVICE).mac},
                                           separators=(",", ":")),
                  BACKEND_TYPE: "vxlan", SUBNET_MANAGER: "true", PUBLIC_IP: str(local)}
        notes = node.metadata.annotations
        if any(notes.get(key) != value for key, value in wanted.items()):
            self.api.change("Node", "", self.node,
                            lambda current: current.metadata.annotations.update(wanted))

    def catch_up(self) -> None:
        """Nodes that published before flannel.1 existed here."""
        for other in self.api.list("Node"):
            lease = lease_of(other)
            if other.name != self.node and lease is not None:
                self.forget(other.name)
                self.learn(other.name, lease)

    def install_masquerade(self, subnet: IPv4Network) -> None:
        """flanneld's masquerade rules: pods keep their addresses inside the cluster CIDR
        and leave it as the node; Service traffic kube-proxy marked is left to it."""
        nf, cluster = self.ns.netfilter, self.cluster_cidr
        nf.iptables("-t nat -N FLANNEL-POSTRTG", check_table=False)
        nf.iptables(f"-t nat -A POSTROUTING {MASQ} -j FLANNEL-POSTRTG", check_table=False)
        for rule in (f"-m mark --mark 0x4000/0x4000 {MASQ} -j RETURN",
                     f"-s {subnet} -d {cluster} {MASQ} -j RETURN",
                     f"-s {cluster} -d {subnet} {MASQ} -j RETURN",
                     f"! -s {cluster} -d {subnet} {MASQ} -j RETURN",
                     f"-s {cluster} ! -d 224.0.0.0/4 {MASQ} -j MASQUERADE --random-fully",
                     f"! -s {cluster} -d {cluster} {MASQ} -j MASQUERADE --random-fully"):
            nf.iptables(f"-t nat -A FLANNEL-POSTRTG {rule}", check_table=False)

    # other nodes

    def learn(self, name: str, lease: Lease) -> None:
        ns, device = self.ns, self.ns.device(DEVICE)
        device.add_fdb(lease.vtep_mac, lease.public_ip)
        ns.add_neighbour(lease.gateway, lease.vtep_mac, DEVICE)
        try:
            ns.add_route(Route(lease.subnet, dev=DEVICE, via=lease.gateway, onlink=True))
        except (RouteError, NetError):
            pass  # a route the user added by hand already covers it
        self.installed[name] = lease

    def forget(self, name: str) -> None:
        lease = self.installed.pop(name, None)
        if lease is None or DEVICE not in self.ns.devices:
            return
        ns = self.ns
        try:
            ns.main.delete(lease.subnet, via=lease.gateway, dev=DEVICE)
        except RouteError:
            pass  # someone removed it by hand
        ns.remove_neighbour(lease.gateway)
        ns.device(DEVICE).remove_fdb(lease.vtep_mac)
