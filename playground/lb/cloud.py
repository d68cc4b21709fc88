"""The `cloud` load-balancer provider: the cloud's controller, as cloud-controller-manager
runs it, programming the world outside (playground/cluster/cloud.py).

- Every node gets a public IP at the VPC's internet gateway: the address on the gateway's
  internet leg and a 1:1 NAT both ways, written into the Node as its ExternalIP. A node
  that comes back (a loaded lab) keeps the address it has, as a cloud keeps an instance's.
- Every LoadBalancer Service gets an address of the pool and, on the cloud load balancer,
  a multipath route to the nodes that may take its traffic.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.cloud import (
    GATEWAY_NAMESPACE,
    INTERNET,
    LB_NAMESPACE,
    LB_POOL,
    LB_POOL_FIRST,
    PUBLIC_NODE_IPS,
)
from playground.cluster.controllers.base import Controller, involved
from playground.cluster.recipe import Recipe, Wiring
from playground.cluster.service import slices_of
from playground.lb.exclusion import service_controller_excludes
from playground.net.netns import NetError
from playground.net.network import Network
from playground.net.route import Nexthop, Route, RouteError


def balanced_address(node) -> IPv4Address | None:
    """Where a load balancer sends to this node: its InternalIP, if it is Ready and the
    service controller's predicate keeps it (not labelled exclude-from-external-...)."""
    if not (node.status.ready and node.status.internal_ip) or service_controller_excludes(node):
        return None
    return IPv4Address(node.status.internal_ip)


class CloudController(Controller):
    """Public IPs for nodes at the gateway, and a load balancer per LoadBalancer Service."""

    name = "cloud-controller"

    def __init__(self, api: ApiServer, network: Network) -> None:
        super().__init__()
        self.api, self.network = api, network
        self.public_ips: dict[str, IPv4Address] = {}
        self.private_ips: dict[str, IPv4Address] = {}   # what each node's NAT rules name
        self.lb_routes: dict[str, list[Route]] = {}
        self.lb_rules: dict[str, list[str]] = {}   # each Service's listeners, as FORWARD rules
        self.balanced: set[str] = set()   # LoadBalancer Services, by key
        self.ready: dict[str, IPv4Address] = {}   # the nodes a load balancer may send to
        self.ready_sorted: list[tuple[str, IPv4Address]] | None = None   # ready, by name
        self.refused: dict[str, str] = {}   # pending Services, by key: why (told once)

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    # public node IPs: 1:1 NAT at the internet gateway

    def on_node(self, event: Event) -> None:
        node = event.object
        if event.type == "DELETED":
            self._unpublish(node.name)
        else:
            self._publish(node)
        now = None if event.type == "DELETED" else balanced_address(node)
        if self.ready.get(node.name) != now:   # every load balancer's nodes change with it
            if now is None:
                self.ready.pop(node.name, None)
            else:
                self.ready[node.name] = now
            self.ready_sorted = None
            for key in sorted(self.balanced):
                self._program(key)

    def _free_public_ip(self, wanted: str | None) -> IPv4Address | None:
        """The address a node had if it is still free, else the lowest free one."""
        if len(self.public_ips) >= len(PUBLIC_NODE_IPS):
            return None   # all given out (a big lab's later nodes: no scan of them each)
        taken = set(self.public_ips.values())
        try:
            kept = IPv4Address(wanted) if wanted else None
        except ValueError:
            kept = None
        if kept in PUBLIC_NODE_IPS and kept not in taken:
            return kept
        return next((ip for ip in PUBLIC_NODE_IPS if ip not in taken), None)

    def _publish(self, node) -> None:
        if node.name in self.public_ips or not node.status.internal_ip:
            return
        public = self._free_public_ip(node.status.external_ip)
        if public is None:
            return  # no public IP left: the node stays private
        private = IPv4Address(node.status.internal_ip)
        gateway = self.network.namespace(GATEWAY_NAMESPACE)
        cidr = f"{public}/{INTERNET.prefixlen}"
        if not any(str(a.interface) == cidr and a.dev == "eth1" for a in gateway.addresses):
            gateway.add_address("eth1", cidr)
        for command in _nat_rules("-A", node.name, public, private):
            gateway.netfilter.iptables(command)
        self.public_ips[node.name], self.private_ips[node.name] = public, private
        if node.status.external_ip != str(public):
            def publish(current) -> None:
                current.status.external_ip = str(public)
            self.api.change("Node", "", node.name, publish)

    def _unpublish(self, name: str) -> None:
        """Give a removed node's public IP back: its NAT rules and the gateway's address
        go, so the next node can have it."""
        public = self.public_ips.pop(name, None)
        private = self.private_ips.pop(name, None)
        if public is None:
            return
        gateway = self.network.namespace(GATEWAY_NAMESPACE)
        for command in _nat_rules("-D", name, public, private):
            try:
                gateway.netfilter.iptables(command)
            except ValueError:
                pass  # someone deleted it by hand
        try:
            gateway.remove_address("eth1", f"{public}/{INTERNET.prefixlen}")
        except NetError:
            pass  # likewise

    # load balancers

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED":
            self.refused.pop(service.key, None)
        elif any(IPv4Address(ip) not in LB_POOL for ip in service.status.load_balancer_ips):
            # another provider's address (a lab file moved to this one): not the cloud's
            def clear(current) -> None:
                current.status.load_balancer_ips, current.status.load_balancer_ip_mode = [], None
            self.api.change("Service", service.metadata.namespace, service.name, clear)
            return
        # the service controller's wantsLoadBalancer: a Service of a class is someone else's
        elif service.spec.type == "LoadBalancer" and service.spec.load_balancer_class is None \
                and not service.status.load_balancer_ips:
            address, problem = self._address_for(service)
            if address is not None:
                def assign(current) -> None:
                    current.status.load_balancer_ips = [address]
                self.api.change("Service", service.metadata.namespace, service.name, assign)
                self.refused.pop(service.key, None)
                return  # the update comes back as an event and is programmed then
            if self.refused.get(service.key) != problem:   # told once, not on every event
                self.refused[service.key] = problem
                self.api.events.warn(self.name, involved(service), "SyncLoadBalancerFailed",
                                     "Error syncing load balancer: failed to ensure load "
                                     f"balancer: {problem}")
        self._program(service.key)

    def _address_for(self, service) -> tuple[str | None, str]:
        """The address this Service gets, or why it gets none (it stays pending)."""
        wanted = service.spec.load_balancer_ip
        if wanted is None:
            free = self._free_lb_ip()
            return (free, "") if free else (None, f"no address left in the pool {LB_POOL}")
        if IPv4Address(wanted) not in LB_POOL:
            return None, f"requested loadBalancerIP {wanted} is not in the pool {LB_POOL}"
        for other in self.api.list("Service"):
            if other.key != service.key and (wanted in other.status.load_balancer_ips or
                                             other.spec.load_balancer_ip == wanted):
                return None, f"requested loadBalancerIP {wanted} is in use by {other.key}"
        return wanted, ""

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
        local = {e.node_name for s in slices_of(self.api, service.metadata.namespace,
                                                service.name) for e in s.endpoints if e.ready}
        return [(name, ip) for name, ip in nodes if name in local]

    def _program(self, key: str) -> None:
        """Replace one Service's load balancer routes with what it needs now."""
        balancer = self.network.namespace(LB_NAMESPACE)
        for route in self.lb_routes.pop(key, []):
            try:
                balancer.main.delete(route.prefix)
            except RouteError:
                pass
        for rule in self.lb_rules.pop(key, []):
            try:
                balancer.netfilter.iptables(f"-D {rule}")
            except ValueError:
                pass  # someone deleted it by hand
        namespace, _, name = key.partition("/")
        service = self.api.peek("Service", namespace, name)
        if service is None or service.spec.type != "LoadBalancer" or \
                service.spec.load_balancer_class is not None:
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
        rules = [rule for route in routes for rule in _listeners(key, service, route.prefix)]
        for rule in rules:
            balancer.netfilter.iptables(f"-A {rule}")
        self.lb_rules[key] = rules


def _listeners(key: str, service, prefix: IPv4Network) -> list[str]:
    """A cloud load balancer forwards only the ports it listens on and drops the rest, so
    a packet to another port never reaches a node that would route it back."""
    rules = []
    for port in service.spec.ports:
        proto = port.protocol.lower()
        named = f"{key}:{port.name}" if port.name else key
        rules.append(f'FORWARD -d {prefix} -p {proto} -m {proto} --dport {port.port} '
                     f'-m comment --comment "cloud-lb: {named}" -j ACCEPT')
    rules.append(f'FORWARD -d {prefix} -m comment --comment "cloud-lb: {key} listens on no '
                 'other port" -j DROP')
    return rules


def _nat_rules(op: str, node: str, public: IPv4Address, private: IPv4Address) -> list[str]:
    """A node's 1:1 NAT at the gateway: in to its private IP, out as its public one."""
    comment = f'-m comment --comment "vpc-nat: {node}"'
    return [f"-t nat {op} PREROUTING -d {public}/32 -i eth1 {comment} "
            f"-j DNAT --to-destination {private}",
            f"-t nat {op} POSTROUTING -s {private}/32 -o eth1 {comment} "
            f"-j SNAT --to-source {public}"]


class CloudProvider(Recipe):
    """The cloud's load balancers from its pool (and its public node IPs): one controller
    for the cluster, nothing on the nodes."""

    name = "cloud"
    summary = "a cloud load balancer with a pool of 198.51.100.0/24, the default"
    pool = LB_POOL

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.controller = CloudController(wiring.api, wiring.network)

    def controllers(self) -> list:
        return [self.controller]
