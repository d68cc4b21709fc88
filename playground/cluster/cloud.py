"""The world outside the cluster: the VPC's internet gateway, the internet, a cloud load balancer.

All public addresses come from the documentation ranges (RFC 5737), so nothing here can
be mistaken for a real host.

- `vpc-gateway` (172.18.0.1 on the node network, 203.0.113.1 on the internet) translates
  each node's private IP to a public one, both ways, as a cloud's internet gateway does.
- `internet` (203.0.113.100) is a host out there, running a web server on 80 and 443.
- `cloud-lb` (172.18.255.254 inside, 203.0.113.2 outside) owns nothing but routes: each
  LoadBalancer IP (198.51.100.0/24) is a multipath route to the nodes, picked per flow by
  hash, the way pass-through cloud load balancers deliver packets with the LB IP intact.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.net.link import Ethernet, stable_mac
from playground.net.network import Network
from playground.net.route import Nexthop, Route, RouteError

INTERNET = IPv4Network("203.0.113.0/24")
GATEWAY_PUBLIC = IPv4Address("203.0.113.1")
LB_OUTSIDE = IPv4Address("203.0.113.2")
LB_INSIDE = IPv4Address("172.18.255.254")
PUBLIC_NODE_IPS = [INTERNET.network_address + n for n in range(10, 100)]
INTERNET_HOST = IPv4Address("203.0.113.100")
LB_POOL = IPv4Network("198.51.100.0/24")
LB_POOL_FIRST = 10
INTERNET_SEGMENT = "internet"
GATEWAY_NAMESPACE, LB_NAMESPACE, INTERNET_NAMESPACE = "vpc-gateway", "cloud-lb", "internet"


def _leg(network: Network, ns, name: str, segment: str, cidr: str) -> None:
    device = Ethernet(name, stable_mac(f"{ns.name}/{name}"))
    ns.add_device(device)
    network.segment(segment).attach(device)
    ns.add_address(name, cidr)


def build_outside(network: Network, node_segment: str, node_network: IPv4Network) -> None:
    gateway = network.namespace(GATEWAY_NAMESPACE)
    _leg(network, gateway, "eth1", INTERNET_SEGMENT, f"{GATEWAY_PUBLIC}/{INTERNET.prefixlen}")
    gateway.add_route(Route(LB_POOL, dev="eth1", via=LB_OUTSIDE))

    host = network.add_namespace(INTERNET_NAMESPACE)
    _leg(network, host, "eth0", INTERNET_SEGMENT, f"{INTERNET_HOST}/{INTERNET.prefixlen}")
    host.add_route(Route(LB_POOL, dev="eth0", via=LB_OUTSIDE))
    host.bind("tcp", 80, "www")
    host.bind("tcp", 443, "www")

    balancer = network.add_namespace(LB_NAMESPACE)
    _leg(network, balancer, "eth1", INTERNET_SEGMENT, f"{LB_OUTSIDE}/{INTERNET.prefixlen}")
    _leg(network, balancer, "eth0", node_segment, f"{LB_INSIDE}/{node_network.prefixlen}")
    balancer.sysctl["net.ipv4.ip_forward"] = "1"
    balancer.sysctl["net.ipv4.fib_multipath_hash_policy"] = "1"


class CloudController(Controller):
    """Public IPs for nodes at the gateway, and a load balancer per LoadBalancer Service."""

    name = "cloud-controller"

    def __init__(self, api: ApiServer, network: Network) -> None:
        super().__init__()
        self.api, self.network = api, network
        self.public_ips: dict[str, IPv4Address] = {}
        self.lb_routes: dict[str, list[Route]] = {}
        self.balanced: set[str] = set()   # LoadBalancer Services, by key
        self.ready: dict[str, IPv4Address] = {}   # the nodes a load balancer may send to
        self.ready_sorted: list[tuple[str, IPv4Address]] | None = None   # ready, by name

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    # public node IPs: 1:1 NAT at the internet gateway

    def on_node(self, event: Event) -> None:
        node = event.object
        gateway = self.network.namespace(GATEWAY_NAMESPACE)
        nf = gateway.netfilter
        if event.type == "DELETED":
            public = self.public_ips.pop(node.name, None)
            if public is not None:
                private = node.status.internal_ip
                nf.iptables(f"-t nat -D PREROUTING -d {public}/32 -i eth1 -m comment --comment "
                            f"\"vpc-nat: {node.name}\" -j DNAT --to-destination {private}")
                nf.iptables(f"-t nat -D POSTROUTING -s {private}/32 -o eth1 -m comment "
                            f"--comment \"vpc-nat: {node.name}\" -j SNAT --to-source {public}")
        elif node.name not in self.public_ips and node.status.internal_ip \
                and len(self.public_ips) < len(PUBLIC_NODE_IPS):
            taken = set(self.public_ips.values())
            public = next((ip for ip in PUBLIC_NODE_IPS if ip not in taken), None)
            if public is None:
                return  # no public IP left: the node stays private
            self.public_ips[node.name] = public
            private = node.status.internal_ip
            gateway.add_address("eth1", f"{public}/{INTERNET.prefixlen}")
            nf.iptables(f"-t nat -A PREROUTING -d {public}/32 -i eth1 -m comment --comment "
                        f"\"vpc-nat: {node.name}\" -j DNAT --to-destination {private}")
            nf.iptables(f"-t nat -A POSTROUTING -s {private}/32 -o eth1 -m comment "
                        f"--comment \"vpc-nat: {node.name}\" -j SNAT --to-source {public}")
            def publish(current) -> None:
                current.status.external_ip = str(public)
            self.api.change("Node", "", node.name, publish)
        if event.type == "DELETED" or not (node.status.ready and node.status.internal_ip):
            now = None
        else:
            now = IPv4Address(node.status.internal_ip)
        if self.ready.get(node.name) != now:   # every load balancer's nodes change with it
            if now is None:
                self.ready.pop(node.name, None)
            else:
                self.ready[node.name] = now
            self.ready_sorted = None
            for key in sorted(self.balanced):
                self._program(key)

    # load balancers

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type != "DELETED" and service.spec.type == "LoadBalancer" \
                and not service.status.load_balancer_ips:
            address = service.spec.load_balancer_ip or self._free_lb_ip()
            if address is not None:
                def assign(current) -> None:
                    current.status.load_balancer_ips = [address]
                self.api.change("Service", service.metadata.namespace, service.name, assign)
                return  # the update comes back as an event and is programmed then
        self._program(service.key)

    def on_slice(self, event: Event) -> None:
        """Only a Local policy load balancer follows where the endpoints run."""
        key = event.object.service
        if key in self.balanced:
            self._program(key)

    def _free_lb_ip(self) -> str | None:
        taken = {ip for s in self.api.list("Service") for ip in s.status.load_balancer_ips}
        taken |= {s.spec.load_balancer_ip for s in self.api.list("Service")}
        for offset in range(LB_POOL_FIRST, LB_POOL.num_addresses - 1):
            candidate = str(LB_POOL.network_address + offset)
            if candidate not in taken:
                return candidate
        return None

    def _targets(self, service) -> list[tuple[str, IPv4Address]]:
        """The nodes a load balancer sends to: all ready ones, or with the Local policy only
        those with a ready endpoint (what the health-check node port would report)."""
        if self.ready_sorted is None:   # by name, made again only when a node changed
            self.ready_sorted = sorted(self.ready.items())
        nodes = list(self.ready_sorted)
        if service.spec.external_traffic_policy != "Local":
            return nodes
        slice_ = self.api.peek("EndpointSlice", service.metadata.namespace, service.name)
        local = {e.node_name for e in slice_.endpoints if e.ready} if slice_ else set()
        return [(name, ip) for name, ip in nodes if name in local]

    def _program(self, key: str) -> None:
        """Replace one Service's load balancer routes with what it needs now."""
        balancer = self.network.namespace(LB_NAMESPACE)
        for route in self.lb_routes.pop(key, []):
            try:
                balancer.main.delete(route.prefix)
            except RouteError:
                pass
        namespace, _, name = key.partition("/")
        service = self.api.peek("Service", namespace, name)
        if service is None or service.spec.type != "LoadBalancer":
            self.balanced.discard(key)
            return
        self.balanced.add(key)
        hops = tuple(Nexthop(ip, "eth0") for _name, ip in self._targets(service))
        routes = []
        for address in service.status.load_balancer_ips:
            prefix = IPv4Network(address)
            if hops:
                route = Route(prefix, proto="static", nexthops=hops)
            else:  # no healthy node: the cloud LB has nowhere to send it
                route = Route(prefix, type="unreachable", proto="static")
            try:
                balancer.add_route(route)
            except RouteError:
                continue  # another Service's route holds the address until it lets go
            routes.append(route)
        self.lb_routes[key] = routes
