"""The Cilium agent of one node, which replaces both kube-proxy and the route agent.

It watches Nodes (a route to each other node's pod CIDR via that node's IP, as
auto-direct-node-routes writes them, or in tunnel mode into cilium_host with the node in
the tunnel map), and Services with their EndpointSlices, writing
one Service's frontends into the BPF maps at a time as its events arrive.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.service import Service
from playground.net.bpf.cilium import HOST_DEVICE, router_ip
from playground.net.bpf.lb import ANY, Backend, Frontend
from playground.net.network import Network
from playground.net.route import Route, RouteError
from playground.proxy.rules import backends_for, categorize

MASQ_CHAIN = "CILIUM_POST_nat"


def frontends_of(service: Service, slices: list, node: str,
                 node_ip: IPv4Address) -> dict[Frontend, tuple[tuple[str, ...], list[Backend]]]:
    """Every address:port Cilium serves for the Service on `node`, with flags and backends."""
    spec = service.spec
    wanted: dict[Frontend, tuple[tuple[str, ...], list[Backend]]] = {}
    if not service.proxied:
        return wanted   # headless and ExternalName: DNS only
    for port in spec.ports:
        if port.protocol == "SCTP":
            continue   # Cilium load-balances SCTP only when built with --enable-sctp (off)
        found = categorize(service, backends_for(service, port, slices), node)
        everyone = [Backend(IPv4Address(b.ip), b.port, port.protocol) for b in found.cluster]
        local = [Backend(IPv4Address(b.ip), b.port, port.protocol) for b in found.local]
        internal = local if spec.internal_traffic_policy == "Local" else everyone
        inner_flags = ("InternalLocal",) if spec.internal_traffic_policy == "Local" else ()
        if spec.session_affinity == "ClientIP":
            inner_flags += ("sessionAffinity",)
        wanted[Frontend(IPv4Address(spec.cluster_ip), port.port, port.protocol)] = (
            ("ClusterIP", *inner_flags, "non-routable"), internal)
        if not service.externally_accessible:
            continue
        local_policy = service.external_policy_local
        external = local if local_policy else everyone
        # Local: outside traffic gets this node's backends, pods (scope "i") all of them
        outer_flags = ("Local", "two-scopes") if local_policy else ()
        if spec.session_affinity == "ClientIP":
            outer_flags += ("sessionAffinity",)
        outside = []
        if port.node_port:
            outside += [(Frontend(node_ip, port.node_port, port.protocol), ("NodePort",)),
                        (Frontend(ANY, port.node_port, port.protocol),
                         ("NodePort", "non-routable"))]
        outside += [(Frontend(IPv4Address(address), port.port, port.protocol),
                     ("ExternalIPs",)) for address in spec.external_ips]
        if spec.type == "LoadBalancer":
            outside += [(Frontend(IPv4Address(address), port.port, port.protocol),
                         ("LoadBalancer",)) for address in service.status.load_balancer_ips]
        for frontend, (kind, *rest) in outside:
            flags = (kind, *outer_flags, *rest)
            wanted[frontend] = (flags, external)
            if local_policy:
                wanted[frontend.internal()] = (flags, internal)
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
        self.peers: dict[str, tuple[IPv4Network, IPv4Address]] = {}  # pod CIDR, node IP
        self.pod_cidr: IPv4Network | None = None
        self.masquerading = False

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    # nodes: routes to their pods, and their addresses for NodePort wildcards

    def on_node(self, event: Event) -> None:
        node = event.object
        if node.name == self.node:
            if event.type != "DELETED" and node.spec.pod_cidr:
                self.pod_cidr = IPv4Network(node.spec.pod_cidr)
                if not self.masquerading:
                    self._install_masquerade(self.pod_cidr)
        else:
            self._forget(node.name)
            if event.type != "DELETED" and node.spec.pod_cidr and node.status.internal_ip:
                self.peers[node.name] = (IPv4Network(node.spec.pod_cidr),
                                         IPv4Address(node.status.internal_ip))
                self.datapath.node_ips.add(self.peers[node.name][1])
                self.datapath.tunnel_map.update(*self.peers[node.name])
        self._route_peers()

    def _route_peers(self) -> None:
        """A route to each other node's pods: via its IP (native routing), or into
        cilium_host, whose program tunnels it (VXLAN); the latter once cilium_host exists."""
        for name, (cidr, address) in self.peers.items():
            if name in self.routes:
                continue
            if self.datapath.tunnel:
                if self.pod_cidr is None or HOST_DEVICE not in self.ns.devices:
                    continue
                router = router_ip(self.pod_cidr)
                route = Route(cidr, dev=HOST_DEVICE, via=router, proto="kernel", src=router)
            else:
                route = Route(cidr, dev="eth0", via=address, proto="kernel")
            try:
                self.ns.add_route(route)
            except RouteError:
                continue  # a route the user added by hand already covers it
            self.routes[name] = route

    def _forget(self, node: str) -> None:
        peer = self.peers.pop(node, None)
        if peer is not None:
            self.datapath.node_ips.discard(peer[1])
            self.datapath.tunnel_map.delete(peer[0])
        route = self.routes.pop(node, None)
        if route is None:
            return
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
