"""Rebuild a cluster from saved API objects: check them as the API server would, replay them
into a fresh cluster with the addresses they had, and let the controllers converge.

Controllers derive everything else again (EndpointSlices of Services with a selector,
pod wiring, kube-proxy rules, load balancer routes), so nothing of the dataplane is saved.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import creation_order
from playground.cluster.cloud import LB_POOL
from playground.cluster.cluster import CLUSTER_CIDR, Cluster, ClusterError, check_cluster_cidr
from playground.cluster.deployment import validate_deployment
from playground.cluster.gc_pause import gc_paused
from playground.cluster.ingress import backends_of, validate_ingress
from playground.cluster.objects import ValidationError, validate_name, validate_pod
from playground.cluster.service import NODE_PORT_RANGE, validate_service

RESTORE_ORDER = ("Namespace", "Node", "Service", "EndpointSlice", "Pod", "Deployment",
                 "Ingress")


@dataclass
class ClusterSettings:
    cni: str = "bridge"
    seed: int = 0
    node_cidr_mask: int = 24
    bridges: list[str] = field(default_factory=list)  # nodes whose bridge outlived its pods
    proxy_mode: str = "iptables"
    cluster_cidr: str = str(CLUSTER_CIDR)


def nodes_with_bridge(cluster: Cluster) -> list[str]:
    """The bridge plugin makes cni0 on a node's first pod and never removes it (a sleeping
    node has one if it had one, or once its pods are wired)."""
    if not hasattr(cluster.cni, "ensure_bridge"):
        return []
    return [node.name for node in cluster.nodes() if _has_bridge(cluster, node.name)]


def _has_bridge(cluster: Cluster, node: str) -> bool:
    sleeper = cluster.sleeping.get(node)
    if sleeper is None:
        return "cni0" in cluster.node_namespace(node).devices
    return sleeper.bridge or cluster.api.indexed_count("Pod", "node", node) > 0


def saved_objects(cluster: Cluster) -> list:
    """The objects a save keeps: all but the EndpointSlices a controller keeps by itself."""
    kept = []
    for kind in RESTORE_ORDER:
        for obj in cluster.api.list(kind):
            if kind == "EndpointSlice" and _derived(cluster.api.peek, obj):
                continue
            kept.append(obj)
    return kept


def _derived(peek, endpoint_slice) -> bool:
    namespace, _, name = endpoint_slice.service.partition("/")
    service = peek("Service", namespace, name)
    return service is not None and bool(service.spec.selector)


def check_objects(objects: list, cluster_cidr: IPv4Network = CLUSTER_CIDR) -> None:
    """Everything the API server and the allocators would refuse, before building anything."""
    with gc_paused():
        _check_objects(objects, cluster_cidr)


def _check_objects(objects: list, cluster_cidr: IPv4Network) -> None:
    seen: set[tuple[str, str, str]] = set()
    by_kind: dict[str, list] = {kind: [] for kind in RESTORE_ORDER}
    for obj in objects:
        key = (obj.kind, obj.metadata.namespace, obj.metadata.name)
        if key in seen:
            shown = f"{key[1]}/{key[2]}"
            raise ClusterError(f"{obj.kind} {shown if shown.isprintable() else repr(shown)} "
                               "is listed twice")
        seen.add(key)
        by_kind[obj.kind].append(obj)
    try:
        for namespace in by_kind["Namespace"]:
            validate_name("namespace", namespace.name)
        _check_nodes(by_kind["Node"], cluster_cidr)
        _check_services(by_kind["Service"])
        _check_slices(by_kind["EndpointSlice"], by_kind["Service"])
        _check_pods(by_kind["Pod"], by_kind["Node"])
        for deployment in by_kind["Deployment"]:
            validate_deployment(deployment)
        _check_ingresses(by_kind["Ingress"], by_kind["Service"])
    except ValidationError as error:
        raise ClusterError(str(error)) from None


def _check_nodes(nodes: list, cluster_cidr: IPv4Network) -> None:
    cidrs: list[tuple[IPv4Network, str]] = []
    for node in nodes:
        validate_name("node", node.name, subdomain=True)
        if node.spec.pod_cidr is None or node.status.internal_ip is None:
            raise ClusterError(f"node {node.name}: needs spec.podCIDR and an InternalIP")
        try:
            cidr = IPv4Network(node.spec.pod_cidr)
        except ValueError:
            raise ClusterError(f"node {node.name}: spec.podCIDR {node.spec.pod_cidr!r} is not "
                               "a CIDR") from None
        if not cidr.subnet_of(cluster_cidr) or cidr.prefixlen > 30:
            raise ClusterError(f"node {node.name}: pod CIDR {cidr} must be a /30 or larger "
                               f"part of {cluster_cidr}")
        cidrs.append((cidr, node.name))
    # sorted by start, a range overlaps an earlier one exactly when it starts before the
    # furthest end seen so far: one pass instead of comparing every pair of 5,000 nodes
    spans = sorted((int(c.network_address), int(c.broadcast_address), order)
                   for order, (c, _name) in enumerate(cidrs))
    clashes, reach = [], None
    for start, end, order in spans:
        if reach is not None and start <= reach[0]:
            clashes.append((max(order, reach[1]), min(order, reach[1])))
        if reach is None or end > reach[0]:
            reach = (end, order)
    if clashes:
        later, earlier = min(clashes)
        (cidr, name), (other, owner) = cidrs[later], cidrs[earlier]
        raise ClusterError(f"node {name}: pod CIDR {cidr} overlaps {other} of node {owner}")


def _check_services(services: list) -> None:
    cluster_ips: dict[str, str] = {}
    node_ports: dict[int, str] = {}
    lb_ips: dict[str, str] = {}
    for service in services:
        validate_service(service)
        spec = service.spec
        if spec.cluster_ip is None:
            raise ClusterError(f"service {service.key}: spec.clusterIP is missing")
        if spec.cluster_ip in cluster_ips:
            raise ClusterError(f"service {service.key}: clusterIP {spec.cluster_ip} is also "
                               f"{cluster_ips[spec.cluster_ip]}'s")
        cluster_ips[spec.cluster_ip] = service.key
        for port in spec.ports:
            if spec.type != "ClusterIP" and port.node_port not in NODE_PORT_RANGE:
                raise ClusterError(f"service {service.key}: port {port.port} needs a nodePort "
                                   "in 30000-32767")
            if port.node_port in node_ports:
                raise ClusterError(f"service {service.key}: nodePort {port.node_port} is also "
                                   f"{node_ports[port.node_port]}'s")
            if port.node_port is not None:
                node_ports[port.node_port] = service.key
        addresses = list(service.status.load_balancer_ips)
        if spec.type != "LoadBalancer" and (addresses or spec.load_balancer_ip):
            raise ClusterError(f"service {service.key}: only a LoadBalancer has a load "
                               "balancer IP")
        if len(addresses) > 1 or (spec.load_balancer_ip and addresses
                                  and addresses != [spec.load_balancer_ip]):
            raise ClusterError(f"service {service.key}: status.loadBalancer must be the one "
                               "address the cloud gave it")
        for address in addresses + ([spec.load_balancer_ip] if spec.load_balancer_ip else []):
            if not _in(address, LB_POOL):
                raise ClusterError(f"service {service.key}: load balancer IP {address!r} is "
                                   f"not in the cloud's pool {LB_POOL}")
            if lb_ips.setdefault(address, service.key) != service.key:
                raise ClusterError(f"service {service.key}: load balancer IP {address} is "
                                   f"also {lb_ips[address]}'s")


def _in(address: str, network: IPv4Network) -> bool:
    try:
        return IPv4Address(address) in network
    except ValueError:
        return False


def _check_slices(slices: list, services: list) -> None:
    with_selector = {s.key for s in services if s.spec.selector}
    for endpoint_slice in slices:
        validate_name("namespace", endpoint_slice.metadata.namespace)
        validate_name("endpointslice", endpoint_slice.metadata.name, subdomain=True)
        where = f"endpointslice {endpoint_slice.metadata.namespace}/{endpoint_slice.metadata.name}"
        if endpoint_slice.service in with_selector:
            raise ClusterError(f"{where}: the endpoints of {endpoint_slice.service} are kept "
                               "by its selector, not saved")
        for endpoint in endpoint_slice.endpoints:
            if _address(endpoint.address) is None:
                raise ClusterError(f"{where}: endpoint {endpoint.address!r} is not an IPv4 "
                                   "address")
        for port in endpoint_slice.ports:
            if not 1 <= port.port <= 65535 or port.protocol not in ("TCP", "UDP"):
                raise ClusterError(f"{where}: port {port.port}/{port.protocol!r} is not a "
                                   "TCP or UDP port")


def _check_pods(pods: list, nodes: list) -> None:
    spans = {node.name: _span(IPv4Network(node.spec.pod_cidr)) for node in nodes}
    addresses: dict[str, str] = {}
    valid: set = set()
    for pod in pods:
        validate_pod(pod, valid)
        span = spans.get(pod.spec.node_name)
        if span is None:
            raise ClusterError(f"pod {pod.key}: spec.nodeName {pod.spec.node_name!r} is not "
                               "a node of the lab")
        address = pod.status.pod_ip
        number = _address(address)
        if number is None or not span[0] <= number <= span[1]:
            raise ClusterError(f"pod {pod.key}: status.podIP {address!r} is not an address of "
                               f"node {pod.spec.node_name}'s pod CIDR")
        owner = addresses.setdefault(address, pod)
        if owner is not pod:
            raise ClusterError(f"pod {pod.key}: podIP {address} is also {owner.key}'s")


def _span(network: IPv4Network) -> tuple[int, int]:
    return int(network.network_address), int(network.broadcast_address)


def _address(text) -> int | None:
    """A dotted quad as a number, None if it is not one; inet_pton is as strict as
    ipaddress (no leading zeros, no short forms) and fifty times faster."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, TypeError, ValueError):
        return None


def _check_ingresses(ingresses: list, services: list) -> None:
    known = {s.key: s for s in services}
    for ingress in ingresses:
        validate_ingress(ingress)
        for backend in backends_of(ingress):
            service = known.get(f"{ingress.metadata.namespace}/{backend.service}")
            if service is None or not any(p.port == backend.port or p.name == backend.port
                                          for p in service.spec.ports):
                shown = f"{backend.service}:{backend.port}"
                raise ClusterError(f"ingress {ingress.key}: backend "
                                   f"{shown if shown.isprintable() else repr(shown)} is not a "
                                   "port of a Service of the lab")


Progress = Callable[[str, int, int], None]  # (what, done, of how many; 0: not known)
PACE = 64  # with a progress report, controllers and the replay yield every this many steps


async def restore_cluster(settings: ClusterSettings, objects: list,
                          progress: Progress | None = None) -> Cluster:
    """A started cluster holding `objects` as saved; ClusterError (and nothing left running)
    if they cannot all come back. With `progress`, it is told how far the replay is and the
    event loop runs now and then, so a screen can show it."""
    cidr = check_cluster_cidr(settings.cluster_cidr, settings.node_cidr_mask)
    check_objects(objects, cidr)
    cluster = Cluster(settings.cni, settings.seed, settings.node_cidr_mask,
                      proxy_mode=settings.proxy_mode, cluster_cidr=str(cidr))
    try:
        with gc_paused():   # many new objects, none in a cycle (a 5,000-node load: 20)
            await cluster.start(derived_later=True)
            cluster.api.pace = PACE if progress is not None else 0
            await _replay(cluster, objects, settings.bridges, progress or _quiet)
    except BaseException:
        await cluster.stop()
        raise
    finally:
        cluster.api.pace = 0
    return cluster


def _quiet(what: str, done: int, total: int) -> None:
    pass


async def _replay(cluster: Cluster, objects: list, bridges: list[str],
                  progress: Progress) -> None:
    by_kind: dict[str, list] = {kind: [] for kind in RESTORE_ORDER}
    for obj in objects:
        by_kind[obj.kind].append(obj)
    for kind, found in by_kind.items():   # the controllers see them as they first came;
        if kind != "Pod":                 # pods are all bound, so no controller acts on
            found.sort(key=creation_order)   # them now, and 150,000 need no sorting
    rest = [obj for kind in ("Namespace", "Service", "EndpointSlice", "Pod", "Deployment")
            for obj in by_kind[kind]]
    bridged = set(bridges)
    saved_versions = [(obj, obj.metadata.resource_version) for obj in objects]
    steps = by_kind["Node"] + rest
    for done, obj in enumerate(steps):
        if done % PACE == 0:
            progress("objects", done, len(steps))
            if cluster.api.pace:
                await asyncio.sleep(0)
        if obj.kind == "Node":   # asleep: its machine and pods are built when first needed
            cluster.restore_node(obj, obj.name in bridged)
        else:
            cluster.api.restore(obj)
            if obj.kind == "Pod":
                cluster.sleep_pod(obj)
    progress("controllers", 0, 0)
    await cluster.settle()
    await cluster.start_derived()
    for ingress in by_kind["Ingress"]:
        cluster.api.restore(ingress)
    await cluster.settle()
    cluster.watch_sleepers()
    for pod in by_kind["Pod"]:
        now = cluster.api.peek("Pod", pod.metadata.namespace, pod.name)
        if now is None or now.status.phase != "Running" or now.status.pod_ip != pod.status.pod_ip:
            why = now.status.message if now is not None else "it was deleted"
            raise ClusterError(f"pod {pod.key} could not be started again: {why or 'unknown'}")
    for obj, version in saved_versions:  # the controllers' updates bumped some: put back
        stored = cluster.api.peek(obj.kind, obj.metadata.namespace, obj.metadata.name)
        if stored is not None:
            stored.metadata.resource_version = version
