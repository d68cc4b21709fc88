"""The `cloud-provider-kind` load-balancer provider, as kubernetes-sigs/cloud-provider-kind
v0.11.1 runs it (pkg/loadbalancer: server.go, proxy.go).

- Every LoadBalancer Service gets an Envoy container, `kindccm-` and 12 hex digits of the
  sha256 of "kind/NAMESPACE/NAME", on the kind docker network (the node network): its
  address there, the next free one Docker hands out (or spec.loadBalancerIP, as `--ip`),
  is the LB IP, reported with ipMode Proxy, so kube-proxy leaves the address alone and
  every client, in the cluster or not, reaches the Envoy.
- One listener per Service port (TCP proxy or UDP proxy); its cluster is every node's
  InternalIP:NodePort, health checked with GET /healthz on kube-proxy's 10256, or on the
  healthCheckNodePort with externalTrafficPolicy Local; healthy_panic_threshold 0, so with
  no healthy node the connection is closed. RANDOM picks from the lab's seeded source;
  sessionAffinity ClientIP makes it RING_HASH on the client's address.
- Envoy ends the client's connection and opens its own from its address: the pod sees the
  Envoy as source, with either externalTrafficPolicy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_network

from playground.cluster.api import ApiServer, Event
from playground.cluster.cloud import GATEWAY_PUBLIC, INTERNET_NAMESPACE
from playground.cluster.cluster import NODE_NETWORK, SEGMENT, ClusterError, docker_mac
from playground.cluster.controllers.base import Controller
from playground.cluster.controllers.kubelet import node_namespace_name
from playground.cluster.legs import Leg
from playground.cluster.recipe import Recipe, Wiring
from playground.lb import ring_hash
from playground.lb.exclusion import service_controller_excludes
from playground.net.link import Ethernet
from playground.net.network import Network
from playground.net.route import Route, RouteError

CLUSTER_NAME = "kind"   # kind's default cluster, the first part of each container's name
OWNER = "envoy"
ADMIN_PORT = 10000      # envoyAdminPort: the admin listener every container has
HEALTHZ_PORT = 10256    # kube-proxy's --healthz-bind-address port, the template's default
PROXY = "Proxy"


def container_name(namespace: str, name: str) -> str:
    """loadBalancerName: the container of one Service of the kind cluster."""
    digest = hashlib.sha256(f"{CLUSTER_NAME}/{namespace}/{name}".encode()).hexdigest()
    return f"kindccm-{digest[:12]}"


@dataclass
class Container:
    """One Envoy container: its network namespace and what it listens on."""

    name: str
    service: str   # NAMESPACE/NAME
    address: IPv4Address
    listeners: dict[tuple[str, int], object] = field(default_factory=dict)   # sockets


class EnvoyController(Controller):
    """cloud-provider-kind's service controller: a container per LoadBalancer Service."""

    name = "cloud-provider-kind"

    def __init__(self, api: ApiServer, network: Network) -> None:
        super().__init__()
        self.api, self.network = api, network
        self.containers: dict[str, Container] = {}   # by Service key
        self.by_namespace: dict[str, Container] = {}

    def start(self) -> None:
        # the host kind runs on reaches the kind network through its docker bridge: here
        # the lab's `internet` host, through the gateway at the network's .1
        host = self.network.find(INTERNET_NAMESPACE)
        if host is not None:
            try:
                host.add_route(Route(NODE_NETWORK, dev="eth0", via=GATEWAY_PUBLIC))
            except RouteError:
                pass   # a loaded lab's host has it already
        self.follow(self.api.watch("Service"), self.on_service)

    def addresses(self) -> set[IPv4Address]:
        return {c.address for c in self.containers.values()}

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED" or service.spec.type != "LoadBalancer":
            self._delete(service.key)
            if event.type != "DELETED" and service.status.load_balancer_ips:
                def clear(current) -> None:   # the service controller clears the status
                    current.status.load_balancer_ips = []
                    current.status.load_balancer_ip_mode = None
                self.api.change("Service", service.metadata.namespace, service.name, clear)
            return
        container = self.containers.get(service.key)
        if container is None:
            container = self._create(service)
            if container is None:
                return
        self._listen(container, service)
        address = str(container.address)
        status = service.status
        if status.load_balancer_ips != [address] or status.load_balancer_ip_mode != PROXY:
            def report(current) -> None:   # GetLoadBalancer: the container's IP, ipMode Proxy
                current.status.load_balancer_ips = [address]
                current.status.load_balancer_ip_mode = PROXY
            self.api.change("Service", service.metadata.namespace, service.name, report)

    def _free_address(self) -> IPv4Address | None:
        """Docker's IPAM on the kind network: the lowest address no container holds."""
        taken = {a.ip for device in self.network.segment(SEGMENT).devices
                 if device.namespace is not None for a in device.namespace.addresses}
        taken |= {IPv4Address(n.status.internal_ip) for n in self.api.list("Node")
                  if n.status.internal_ip}
        for value in range(int(NODE_NETWORK.network_address) + 2,
                           int(NODE_NETWORK.broadcast_address)):
            if IPv4Address(value) not in taken:
                return IPv4Address(value)
        return None

    def _create(self, service) -> Container | None:
        name = container_name(service.metadata.namespace, service.name)
        wanted = service.spec.load_balancer_ip
        taken = {a.ip for device in self.network.segment(SEGMENT).devices
                 if device.namespace is not None for a in device.namespace.addresses}
        had = [IPv4Address(a) for a in service.status.load_balancer_ips
               if IPv4Address(a) in NODE_NETWORK and IPv4Address(a) not in taken]
        # a loaded lab's container comes back at the address its status names
        address = IPv4Address(wanted) if wanted else had[0] if had else self._free_address()
        if address is None or (wanted and (address in taken or address not in NODE_NETWORK)):
            why = ("no free address on the kind network" if address is None else
                   f"docker run --ip {wanted}: Address already in use" if address in taken
                   else f"docker run --ip {wanted}: not in the kind network {NODE_NETWORK}")
            self.api.events.warn(self.name, f"service/{service.key}",
                                 "SyncLoadBalancerFailed",
                                 f"Error syncing load balancer: failed to ensure load "
                                 f"balancer: {why}")
            return None
        if self.network.find(name) is not None:
            self.network.remove_namespace(name)   # a container left from before: run anew
        ns = self.network.add_namespace(name)
        eth0 = Ethernet("eth0", docker_mac(address))
        ns.add_device(eth0)
        self.network.segment(SEGMENT).attach(eth0)
        ns.add_address("eth0", f"{address}/{NODE_NETWORK.prefixlen}")
        ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0",
                           via=NODE_NETWORK.network_address + 1))
        ns.sysctl["net.ipv4.ip_forward"] = "1"   # --sysctl, as the container is run with
        ns.sysctl["net.ipv4.conf.all.rp_filter"] = "0"
        ns.bind("tcp", ADMIN_PORT, OWNER)
        container = Container(name, service.key, address)
        self.containers[service.key] = self.by_namespace[name] = container
        return container

    def _listen(self, container: Container, service) -> None:
        """The LDS: one listener on 0.0.0.0 per TCP or UDP Service port."""
        ns = self.network.namespace(container.name)
        wanted = {(p.protocol.lower(), p.port) for p in service.spec.ports
                  if p.protocol in ("TCP", "UDP")}
        for key in list(container.listeners):
            if key not in wanted:
                ns.close(container.listeners.pop(key))
        for proto, port in sorted(wanted - container.listeners.keys()):
            container.listeners[(proto, port)] = ns.bind(proto, port, OWNER)

    def _delete(self, key: str) -> None:
        container = self.containers.pop(key, None)
        if container is not None:
            self.by_namespace.pop(container.name, None)
            self.network.remove_namespace(container.name)


@dataclass(frozen=True)
class Backend:
    node: str
    address: IPv4Address
    healthy: bool
    check: str   # what its health check got


class CloudProviderKind(Recipe):
    """Envoy containers on the node network: one controller for the cluster, nothing on the
    nodes (cloud-provider-kind runs on the host)."""

    name = "cloud-provider-kind"
    summary = "cloud-provider-kind v0.11.1: an Envoy per Service on the kind network, ipMode Proxy"
    pool = NODE_NETWORK
    gateway_controllers = ("kind.sigs.k8s.io/gateway-controller",)   # its pkg/gateway

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.controller = EnvoyController(wiring.api, wiring.network)

    def controllers(self) -> list:
        return [self.controller]

    def node_network_addresses(self) -> set[IPv4Address]:
        return self.controller.addresses()

    def proxied(self, cluster, trace) -> Leg | None:
        """A connection the Envoy took on a Service's listener: its own to a node's NodePort."""
        if trace.verdict != "delivered" or trace.delivered_to.owner != OWNER:
            return None
        container = self.controller.by_namespace.get(trace.delivered_to.namespace)
        if container is None:
            return None
        namespace, _, name = container.service.partition("/")
        service = cluster.api.peek("Service", namespace, name)
        packet = trace.delivered_packet
        port = next((p for p in service.spec.ports if p.port == packet.dport
                     and p.protocol.lower() == packet.proto), None) if service else None
        if port is None:
            return None   # the admin listener: Envoy answers it itself
        ranges = service.spec.load_balancer_source_ranges
        if ranges and not any(packet.src in ip_network(r.strip(), strict=False)
                              for r in ranges):
            raise ClusterError(f"the Envoy {container.name} closes the connection: no filter "
                               f"chain matches source {packet.src} (loadBalancerSourceRanges "
                               f"{', '.join(ranges)})")
        if not port.node_port:
            raise ClusterError(f"the Envoy {container.name} has no backend for port "
                               f"{port.port}: service {service.key} has no node port "
                               "(allocateLoadBalancerNodePorts is false)")
        local = service.spec.external_traffic_policy == "Local"
        check_port = service.spec.health_check_node_port if local else HEALTHZ_PORT
        backends = [self._check(cluster, container, node, check_port)
                    for node in _nodes(cluster)]
        healthy = [b for b in backends if b.healthy]
        checks = ", ".join(f"{b.node} {b.check}" for b in backends) or "no nodes"
        what = f"health checks GET /healthz on :{check_port}: {checks}"
        if not healthy:
            raise ClusterError(f"the Envoy {container.name} closes the connection: no healthy "
                               f"upstream ({what})")
        if service.spec.session_affinity == "ClientIP":
            hosts = {f"{b.address}:{port.node_port}": b for b in healthy}
            chosen = hosts[ring_hash.choose(ring_hash.ring(list(hosts)), str(packet.src))]
            policy = f"RING_HASH on source {packet.src} (sessionAffinity ClientIP)"
        else:
            chosen = healthy[cluster.network.rng.randrange(len(healthy))]
            policy = f"RANDOM among {len(healthy)} healthy"
        onward = cluster.network.send(container.name, chosen.address, packet.proto,
                                      port.node_port, owner=OWNER)
        target = f"{chosen.address}:{port.node_port}"
        return Leg(f"the Envoy {container.name} ({container.address}) ends the connection and "
                   f"opens its own to node {chosen.node}'s NodePort {target}:",
                   f"{policy}; {what}", onward, "proxied", proxy="proxy")

    @staticmethod
    def _check(cluster, container: Container, node, port: int) -> Backend:
        """One HTTP health check, sent through the lab's network; the answer is kube-proxy's
        own where the connection reached its listener."""
        address = IPv4Address(node.status.internal_ip)
        probe = cluster.network.send(container.name, address, "tcp", port, owner=OWNER)
        ns = cluster.network.namespace(container.name)
        for sock in [s for s in ns.sockets if s.remote == (address, port)]:
            ns.close(sock)   # the check's own connection, done with
        if probe.verdict != "delivered":
            return Backend(node.name, address, False, probe.verdict)
        delivered = probe.delivered_to
        answer = None
        if delivered.namespace == node_namespace_name(node.name):
            for agent in cluster.node_agents.get(node.name, []):
                health = getattr(agent, "health", None)
                if health is not None and delivered.owner == "kube-proxy":
                    answer = health.answer(port, cluster.network.clock)
        if answer is None:
            return Backend(node.name, address, False, f"no HTTP answer ({delivered.owner})")
        return Backend(node.name, address, answer.status == 200, str(answer.status))


def _nodes(cluster) -> list:
    """The nodes the service controller gives the load balancer: all with an InternalIP but
    those labelled to be left out (readiness is the health check's to judge)."""
    return sorted((n for n in cluster.api.list("Node")
                   if n.status.internal_ip and not service_controller_excludes(n)),
                  key=lambda n: n.name)
