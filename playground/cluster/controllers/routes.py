"""Per node, a route to every other node's pod CIDR via that node's IP (as kindnet does)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.net.network import Network
from playground.net.route import Route, RouteError


class NodeRouteAgent(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, ns_name: str) -> None:
        super().__init__()
        self.api, self.network, self.node, self.ns_name = api, network, node, ns_name
        self.name = f"routes/{node}"
        self.installed: dict[str, Route] = {}

    def start(self) -> None:
        self.follow(self.api.watch("Node", lambda n: n.name != self.node), self.on_node)

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
