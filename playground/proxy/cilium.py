"""The Cilium agent of one node, which replaces both kube-proxy and the route agent.

It watches Nodes (a route to each other node's pod CIDR via that node's IP, as
auto-direct-node-routes writes them), and Services with their EndpointSlices, writing
one Service's frontends into the BPF maps at a time as its events arrive.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.service import Service
from playground.net.bpf.lb import ANY, Backend, Frontend
from playground.net.network import Network
from playground.net.route import Route, RouteError
from playground.proxy.rules import backends_for

MASQ_CHAIN = "CILIUM_POST_nat"


def frontends_of(service: Service, slices: list, node: str,
                 node_ip: IPv4Address) -> dict[Frontend, tuple[tuple[str, ...], list[Backend]]]:
    """Every address:port Cilium serves for the Service on `node`, with flags and backends."""
    spec = service.spec
    wanted: dict[Frontend, tuple[tuple[str, ...], list[Backend]]] = {}
    for port in spec.ports:
        everyone = [Backend(IPv4Address(b.ip), b.port, port.protocol)
                    for b in backends_for(service, port, slices)]
        local = [Backend(IPv4Address(b.ip), b.port, port.protocol)
                 for b in backends_for(service, port, slices) if b.node == node]
        internal = local if spec.internal_traffic_policy == "Local" else everyone
        inner_flags = ("InternalLocal",) if spec.internal_traffic_policy == "Local" else ()
        if spec.cluster_ip:
            wanted[Frontend(IPv4Address(spec.cluster_ip), port.port, port.protocol)] = (
                ("ClusterIP", *inner_flags, "non-routable"), internal)
        if spec.type == "ClusterIP":
            continue
        external = local if spec.external_traffic_policy == "Local" else everyone
        outer_flags = ("Local",) if spec.external_traffic_policy == "Local" else ()
        if port.node_port:
            wanted[Frontend(node_ip, port.node_port, port.protocol)] = (
                ("NodePort", *outer_flags), external)
            wanted[Frontend(ANY, port.node_port, port.protocol)] = (
                ("NodePort", *outer_flags, "non-routable"), external)
        if spec.type == "LoadBalancer":
            for address in service.status.load_balancer_ips:
                wanted[Frontend(IPv4Address(address), port.port, port.protocol)] = (
                    ("LoadBalancer", *outer_flags), external)
    return wanted


class CiliumAgent(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, ns,
                 cluster_cidr: IPv4Network, plugin) -> None:
        super().__init__()
        self.api, self.network, self.node, self.ns = api, network, node, ns
        self.cluster_cidr = cluster_cidr
        self.datapath = plugin.datapath(network, ns)
        self.name = f"cilium-agent/{node}"
        self.owned: dict[str, set[Frontend]] = {}
        self.routes: dict[str, Route] = {}
        self.masquerading = False

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    # nodes: routes to their pods, and their addresses for NodePort wildcards

    def on_node(self, event: Event) -> None:
        node = event.object
        if node.name == self.node:
            if event.type != "DELETED" and node.spec.pod_cidr and not self.masquerading:
                self._install_masquerade(IPv4Network(node.spec.pod_cidr))
            return
        self._forget(node.name)
        if event.type == "DELETED" or not (node.spec.pod_cidr and node.status.internal_ip):
            return
        address = IPv4Address(node.status.internal_ip)
        self.datapath.node_ips.add(address)
        route = Route(IPv4Network(node.spec.pod_cidr), dev="eth0", via=address, proto="kernel")
        try:
            self.ns.add_route(route)
        except RouteError:
            return  # a route the user added by hand already covers it
        self.routes[node.name] = route

    def _forget(self, node: str) -> None:
        route = self.routes.pop(node, None)
        if route is None:
            return
        self.datapath.node_ips.discard(route.via)
        try:
            self.ns.main.delete(route.prefix, via=route.via)
        except RouteError:
            pass  # someone removed it by hand

    def _install_masquerade(self, pod_cidr: IPv4Network) -> None:
        """Cilium's one iptables chain here: pods reaching outside the cluster leave as the
        node (BPF masquerading is off in this lab)."""
        nf = self.ns.netfilter
        nf.iptables(f"-t nat -N {MASQ_CHAIN}")
        nf.iptables(f"-t nat -A POSTROUTING -m comment --comment \"cilium-feeder: {MASQ_CHAIN}\" "
                    f"-j {MASQ_CHAIN}")
        nf.iptables(f"-t nat -A {MASQ_CHAIN} -s {pod_cidr} ! -d {self.cluster_cidr} ! -o "
                    "cilium_+ -m comment --comment \"cilium masquerade non-cluster\" "
                    "-j MASQUERADE")
        self.masquerading = True

    # services: one at a time, as its Service or EndpointSlice changes

    def on_service(self, event: Event) -> None:
        self.sync(event.object.key)

    def on_slice(self, event: Event) -> None:
        self.sync(event.object.service)

    def sync(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        service = self.api.peek("Service", namespace, name)
        wanted = {}
        if service is not None:
            slices = [s for s in self.api.list("EndpointSlice", namespace) if s.service == key]
            wanted = frontends_of(service, slices, self.node, self.datapath.node_ip)
        lb = self.datapath.lb
        for frontend in self.owned.get(key, set()) - set(wanted):
            lb.delete(frontend)
        for frontend, (flags, backends) in wanted.items():
            lb.upsert(frontend, backends, flags)
        self.owned[key] = set(wanted)
        if not wanted:
            self.owned.pop(key)
