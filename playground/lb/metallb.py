"""The `metallb` load-balancer provider: MetalLB v0.16.1 in layer-2 mode, as on kind or bare
metal (controller/service.go, internal/allocator, speaker/layer2_controller.go).

- The controller gives each LoadBalancer Service (of no loadBalancerClass: MetalLB's default
  --lb-class is empty) an address of an IPAddressPool: the one asked for (the
  metallb.io/loadBalancerIPs annotation, its metallb.universe.tf twin, or
  spec.loadBalancerIP), else the first free one of the auto-assign pools. One it cannot
  give stays pending, with MetalLB's AllocationFailed Event.
- Every speaker runs the same election for each address: the nodes whose speaker is up
  (the node is Ready), not labelled exclude-from-external-load-balancers, and chosen by an
  L2Advertisement of the address's pool; with externalTrafficPolicy Local only those with
  a ready endpoint; sorted by sha256(node name + "#" + address), the first one announces.
  It answers ARP for the address on its eth0 and, when it takes the address over, sends
  gratuitous ARPs, so the network's neighbour tables point at it.
- The address is on no interface: packets for it reach the owner's kube-proxy rules, which
  translate them as any LoadBalancer IP's (MetalLB sets no ipMode: VIP).
"""

from __future__ import annotations

import functools
import hashlib
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.cloud import GATEWAY_PUBLIC, INTERNET_NAMESPACE
from playground.cluster.cluster import SEGMENT
from playground.cluster.controllers.base import Controller, involved
from playground.cluster.metallb_objects import IPAddressPool
from playground.cluster.objects import KubeNamespace, ObjectMeta, selector_matches
from playground.cluster.recipe import Recipe, Wiring
from playground.cluster.service import slices_of
from playground.lb.exclusion import speaker_excludes
from playground.net.l2 import gratuitous_arp
from playground.net.netns import Namespace
from playground.net.network import Network
from playground.net.route import Route, RouteError

NAMESPACE = "metallb-system"
SOURCE = "metallb-controller"
SPEAKER = "metallb-speaker"
IPS_ANNOTATIONS = ("metallb.io/loadBalancerIPs", "metallb.universe.tf/loadBalancerIPs")
POOL_ANNOTATIONS = ("metallb.io/address-pool", "metallb.universe.tf/address-pool")
FROM_POOL = "metallb.io/ip-allocated-from-pool"
DEVICE = "eth0"   # a kind node's leg on the node network, where the speaker answers


def _annotation(service, names: tuple[str, ...]) -> str | None:
    return next((service.metadata.annotations[n] for n in names
                 if n in service.metadata.annotations), None)


def buggy(ip: IPv4Address) -> bool:
    """ipConfusesBuggyFirmwares: an address ending in .0 or .255."""
    return ip.packed[3] in (0, 255)


def election_order(nodes: list[str], address: str) -> list[str]:
    """sortL2Candidates without preferences: by sha256(node + "#" + ip)."""
    return sorted(nodes, key=lambda n: hashlib.sha256(f"{n}#{address}".encode()).digest())


class MetalLBController(Controller):
    """MetalLB's controller (addresses) and its speakers' layer-2 election, as one loop:
    every speaker computes the same owner, so the lab computes it once."""

    name = SOURCE

    def __init__(self, api: ApiServer, network: Network) -> None:
        super().__init__()
        self.api, self.network = api, network
        self.owners: dict[str, str] = {}          # address -> announcing node
        self.speakers: dict[str, Namespace] = {}  # built nodes' speakers, by node
        self.told: dict[tuple, tuple] = {}   # (Service key, source) -> the last Event it got
        self.routes: dict[str, list[Route]] = {}  # pool key -> the internet's routes to it

    def start(self) -> None:
        if self.api.peek("Namespace", "", NAMESPACE) is None:   # its manifest's namespace
            self.api.create(KubeNamespace(ObjectMeta(NAMESPACE)))
        for kind in ("IPAddressPool", "L2Advertisement", "Node", "Service", "EndpointSlice"):
            self.follow(self.api.watch(kind), self.on_change)

    def on_change(self, event: Event) -> None:
        if event.object.kind == "IPAddressPool":
            self._route_pool(event)
        self.enqueue(("all",))

    def sync(self, _what: str) -> None:
        services = sorted(self.api.list("Service"), key=lambda s: s.key)
        for service in services:
            self._allocate(service)
        self._elect()
        keys = {s.key for s in services}   # a Service made again is told again
        self.told = {k: v for k, v in self.told.items() if k[0] in keys}

    # the controller: addresses

    def _pools(self) -> list[IPAddressPool]:
        return sorted(self.api.list("IPAddressPool", NAMESPACE), key=lambda p: p.name)

    def _pool_of(self, ip: IPv4Address) -> IPAddressPool | None:
        """poolFor: the pool holding the address (not a buggy one, if it avoids them)."""
        for pool in self._pools():
            if pool.avoid_buggy_ips and buggy(ip):
                continue
            if any(ip in cidr for cidr in pool.networks()):
                return pool
        return None

    def _allocate(self, service) -> None:
        mine = service.spec.type == "LoadBalancer" and service.spec.load_balancer_class is None
        current = service.status.load_balancer_ips
        if not mine:
            return
        if current and self._pool_of(IPv4Address(current[0])) is not None and \
                self._holder(current[0], service.key) is None:
            return   # converged: its address is still allowed by the config
        if current:
            self._event(service, "Normal", "ClearAssignment", f"current IP for "
                        f'"{service.key}" not allowed by config, will attempt for new IP '
                        "assignment")
        address, problem = self._choose(service)
        if address is None:
            if current:
                self._set(service, [], None)
            self._event(service, "Warning", "AllocationFailed",
                        f'Failed to allocate IP for "{service.key}": {problem}')
            return
        self._set(service, [str(address)], self._pool_of(address).name)
        self._event(service, "Normal", "IPAllocated", f'Assigned IP ["{address}"]')

    def _holder(self, address: str, key: str) -> str | None:
        """Another Service that has this address (MetalLB shares one only when asked to)."""
        return next((s.key for s in self.api.list("Service")
                     if s.key != key and address in s.status.load_balancer_ips), None)

    def _choose(self, service) -> tuple[IPv4Address | None, str]:
        wanted_text = _annotation(service, IPS_ANNOTATIONS)
        if wanted_text is not None and service.spec.load_balancer_ip:
            return None, ("service can not have both metallb.io/loadBalancerIPs and "
                          "svc.Spec.LoadBalancerIP")
        wanted_text = wanted_text if wanted_text is not None else service.spec.load_balancer_ip
        if not self._pools():
            return None, "no available IPs"   # MetalLB with no pools: nothing to give
        wanted_pool = _annotation(service, POOL_ANNOTATIONS)
        if wanted_text:
            texts = [t.strip() for t in wanted_text.split(",")]
            try:
                wanted = IPv4Address(texts[0])
            except ValueError:
                return None, f"invalid {IPS_ANNOTATIONS[0]}: {wanted_text!r}"
            pool = self._pool_of(wanted)
            if pool is None:
                return None, f'["{wanted}"] is not allowed in config'
            if wanted_pool and pool.name != wanted_pool:
                return None, (f'requested loadBalancer IP(s) ["{wanted}"] is not compatible '
                              f"with requested address pool {wanted_pool}")
            other = self._holder(str(wanted), service.key)
            if other is not None:
                return None, (f'can\'t change sharing key for "{service.key}", address also '
                              f"in use by {other}")
            return wanted, ""
        pools = [p for p in self._pools() if p.name == wanted_pool] if wanted_pool else \
            [p for p in self._pools() if p.auto_assign]
        if wanted_pool and not pools:
            return None, f'unknown pool "{wanted_pool}"'
        taken = {ip for s in self.api.list("Service") for ip in s.status.load_balancer_ips
                 if s.key != service.key}
        for pool in pools:
            for cidr in pool.networks():
                for ip in cidr:   # the cursor walks every address, .0 and .255 too
                    if pool.avoid_buggy_ips and buggy(ip):
                        continue
                    if str(ip) not in taken:
                        return ip, ""
        return None, "no available IPs"

    def _set(self, service, addresses: list[str], pool: str | None) -> None:
        def assign(current) -> None:
            current.status.load_balancer_ips = list(addresses)
            current.status.load_balancer_ip_mode = None   # MetalLB sets none: VIP
            if pool is None:
                current.metadata.annotations.pop(FROM_POOL, None)
            else:
                current.metadata.annotations[FROM_POOL] = pool
        self.api.change("Service", service.metadata.namespace, service.name, assign)

    def _event(self, service, type_: str, reason: str, message: str,
               source: str = SOURCE) -> None:
        """An Event on the Service, not again while nothing about it changed."""
        if self.told.get((service.key, source)) == (reason, message):
            return
        self.told[(service.key, source)] = (reason, message)
        self.api.events.warn(source, involved(service), reason, message, type_)

    # the speakers: who answers ARP for each address

    def _candidates(self, service, pool: IPAddressPool) -> list[str]:
        ads = [ad for ad in self.api.list("L2Advertisement", NAMESPACE)
               if not ad.ip_address_pools or pool.name in ad.ip_address_pools]
        nodes = []
        for node in self.api.list("Node"):
            labels = node.metadata.labels
            if not node.status.ready or speaker_excludes(node):
                continue   # its speaker left the memberlist / it is excluded
            if any(not ad.node_selectors or any(
                    selector_matches(s.match_labels, s.match_expressions, labels)
                    for s in ad.node_selectors) for ad in ads):
                nodes.append(node.name)
        serving = {e.node_name for s in slices_of(self.api, service.metadata.namespace,
                                                  service.name)
                   for e in s.endpoints if (e.ready or e.serving) and e.node_name}
        if not serving:
            return []   # activeEndpointExists: nothing to send to, nobody announces
        if service.spec.external_traffic_policy == "Local":
            nodes = [n for n in nodes if n in serving]
        return nodes

    def _elect(self) -> None:
        wanted: dict[str, tuple[str, object]] = {}
        for service in self.api.list("Service"):
            if service.spec.type != "LoadBalancer" or service.spec.load_balancer_class:
                continue
            for address in service.status.load_balancer_ips:
                pool = self._pool_of(IPv4Address(address))
                nodes = self._candidates(service, pool) if pool is not None else []
                if nodes:
                    wanted[address] = (election_order(nodes, address)[0], service)
        for address in sorted(set(self.owners) - set(wanted)):
            self._withdraw(address, self.owners.pop(address))
        for address, (node, service) in sorted(wanted.items()):
            if self.owners.get(address) == node:
                continue
            if address in self.owners:
                self._withdraw(address, self.owners[address])
            self.owners[address] = node
            self._announce(address, node)
            self._event(service, "Normal", "nodeAssigned",
                        f'announcing from node "{node}" with protocol "layer2"', SPEAKER)

    def _announce(self, address: str, node: str) -> None:
        ip = IPv4Address(address)
        ns = self.speakers.get(node)
        if ns is None:   # the node is asleep: an ARP for the address builds it
            self.network.segment(SEGMENT).sleepers[ip] = functools.partial(
                self.network.wake, node)
            return
        self.network.segment(SEGMENT).sleepers.pop(ip, None)
        who = f"metallb speaker on {node}"
        ns.arp_responders[ip] = (DEVICE, who)
        gratuitous_arp(ns, ns.device(DEVICE), ip, who)

    def _withdraw(self, address: str, node: str) -> None:
        ip = IPv4Address(address)
        self.network.segment(SEGMENT).sleepers.pop(ip, None)
        ns = self.speakers.get(node)
        if ns is not None:
            ns.arp_responders.pop(ip, None)

    def speaker_up(self, node: str, ns: Namespace) -> None:
        """A node's speaker starts (its machine built): it announces what it won."""
        self.speakers[node] = ns
        for address, owner in sorted(self.owners.items()):
            if owner == node:
                self._announce(address, node)

    def speaker_down(self, node: str) -> None:
        self.speakers.pop(node, None)

    # the world outside: the internet reaches the pools through the gateway

    def _route_pool(self, event: Event) -> None:
        """The upstream router knows the node network's L2 pools (kind: the docker host is
        on that network); here the internet host routes each pool via the gateway."""
        host = self.network.find(INTERNET_NAMESPACE)
        key = event.object.key
        for route in self.routes.pop(key, []):
            try:
                host.main.delete(route.prefix)
            except (RouteError, AttributeError):
                pass
        if event.type == "DELETED" or host is None:
            return
        routes = []
        for cidr in _covering(event.object):
            route = Route(cidr, dev="eth0", via=GATEWAY_PUBLIC)
            try:
                host.add_route(route)
            except RouteError:
                continue
            routes.append(route)
        self.routes[key] = routes


def _covering(pool: IPAddressPool) -> list[IPv4Network]:
    try:
        return pool.networks()
    except ValueError:
        return []


class Speaker(Controller):
    """A node's MetalLB speaker: it answers ARP for the addresses it won (the election runs
    in MetalLBController)."""

    name = SPEAKER

    def __init__(self, controller: MetalLBController, node: str, ns: Namespace) -> None:
        super().__init__()
        self.controller, self.node, self.ns = controller, node, ns

    def start(self) -> None:
        self.controller.speaker_up(self.node, self.ns)

    async def stop(self) -> None:
        self.controller.speaker_down(self.node)
        await super().stop()


class MetalLBProvider(Recipe):
    """MetalLB in layer 2: a controller for the cluster, a speaker on every node."""

    name = "metallb"
    summary = "MetalLB v0.16.1 in layer 2: IPAddressPool addresses, one node answers ARP"
    kinds = ("IPAddressPool", "L2Advertisement")   # the CRDs it installs

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.controller = MetalLBController(wiring.api, wiring.network)

    def derived_controllers(self) -> list:
        # a loaded lab's Services, pools and slices are all back before it first syncs
        return [self.controller]

    def node_agents(self, node: str, ns: Namespace) -> list:
        return [Speaker(self.controller, node, ns)]

