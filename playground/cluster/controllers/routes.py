"""Per node, a route to every other node's pod CIDR via that node's IP (as kindnet does).

Those routes are the same on every node but for the node's own one, so they are held once
(NodeRoutes, one controller watching the Nodes) and every node's main table shows them.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.controllers.kubelet import node_namespace_name
from playground.net.network import Network
from playground.net.route import Route, RouteError, RouteTable


class NodeRoutes(Controller):
    """The routes to every node's pod CIDR, kept once; each node hides its own."""

    name = "routes"

    def __init__(self, api: ApiServer, network: Network) -> None:
        super().__init__()
        self.api, self.network = api, network
        self.table = RouteTable("main")
        self.installed: dict[str, Route] = {}

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)

    def on_node(self, event: Event) -> None:
        node = event.object
        own = self.network.namespaces.get(node_namespace_name(node.name))
        old = self.installed.pop(node.name, None)
        if old is not None:
            self.table.delete(old.prefix, via=old.via)
            if own is not None:
                own.main.hidden.discard(old)
        if event.type == "DELETED" or not (node.spec.pod_cidr and node.status.internal_ip):
            return
        route = Route(IPv4Network(node.spec.pod_cidr), dev="eth0",
                      via=IPv4Address(node.status.internal_ip))
        if own is not None:   # a node reaches its own pods through its own devices
            own.main.hidden.add(route)
        try:
            self.table.add(route)
        except RouteError:
            return
        self.installed[node.name] = route


class NodeRouteAgent(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, ns_name: str,
                 cluster_cidr: IPv4Network, shared: NodeRoutes | None = None) -> None:
        super().__init__()
        self.api, self.network, self.node, self.ns_name = api, network, node, ns_name
        self.cluster_cidr = cluster_cidr
        self.name = f"routes/{node}"
        self.installed: dict[str, Route] = {}
        self.shared = shared

    def start(self) -> None:
        self.install_masquerade()
        if self.shared is not None:
            main = self.network.namespace(self.ns_name).main
            main.share(self.shared.table)
            own = self.shared.installed.get(self.node)
            if own is not None:   # a node built after its Node object (a loaded lab's)
                main.hidden.add(own)
        else:   # on its own (in tests): install the routes itself
            self.follow(self.api.watch("Node", lambda n: n.name != self.node), self.on_node)

    def install_masquerade(self) -> None:
        """kindnet's masq agent: pods reaching anything outside the cluster CIDR leave as
        the node's IP."""
        nf = self.network.namespace(self.ns_name).netfilter
        for command in (
                "-t nat -N KIND-MASQ-AGENT",
                "-t nat -A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment "
                "\"kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination "
                "traffic to our custom KIND-MASQ-AGENT chain\" -j KIND-MASQ-AGENT",
                f"-t nat -A KIND-MASQ-AGENT -d {self.cluster_cidr} -m comment --comment "
                "\"kind-masq-agent: local traffic is not subject to MASQUERADE\" -j RETURN",
                "-t nat -A KIND-MASQ-AGENT -m comment --comment \"kind-masq-agent: "
                "outbound traffic is subject to MASQUERADE (must be last in chain)\" "
                "-j MASQUERADE"):
            nf.iptables(command, check_table=False)

    def on_node(self, event: Event) -> None:
        node = event.object
        ns = self.network.namespace(self.ns_name)
        old = self.installed.pop(node.name, None)
        if old is not None:
            try:
                ns.main.delete(old.prefix, via=old.via)
            except RouteError:
                pass  # someone removed it by hand
        if event.type == "DELETED" or not (node.spec.pod_cidr and node.status.internal_ip):
            return
        route = Route(IPv4Network(node.spec.pod_cidr), dev="eth0",
                      via=IPv4Address(node.status.internal_ip))
        try:
            ns.add_route(route)
        except RouteError:
            return  # a route the user added by hand already covers it
        self.installed[node.name] = route
