"""What a lab file's objects must be before a lab is rebuilt from them: the API server's checks
of each object, and what only the whole lab shows (two nodes' pod CIDRs overlapping, an address
given twice, a pod on a node that is not there). One function per kind, named in the table of
kinds (kinds.py); each takes the kind's objects, all saved objects by kind, and the pod range.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.cluster import ClusterError
from playground.cluster.endpoint_slices import validate_endpoint_slice
from playground.cluster.ingress import backends_of, validate_ingress
from playground.cluster.objects import validate_name, validate_pod
from playground.cluster.service import (
    CONTROLLER_NAME,
    MANAGED_BY,
    NODE_PORT_RANGE,
    validate_service,
)

Saved = dict[str, list]


def check_namespaces(namespaces: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
    for namespace in namespaces:
        validate_name("namespace", namespace.name)


def each(validate):
    """A check of a kind whose objects are checked one by one."""
    def check(found: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
        for obj in found:
            validate(obj)
    return check


def check_nodes(nodes: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
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


def check_services(services: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
    cluster_ips: dict[str, str] = {}
    node_ports: dict[int, str] = {}
    lb_ips: dict[str, str] = {}
    for service in services:
        validate_service(service)
        spec = service.spec
        if spec.cluster_ip is None and spec.type != "ExternalName":
            raise ClusterError(f"service {service.key}: spec.clusterIP is missing")
        if not service.proxied:
            pass   # headless or ExternalName: no address of its own
        elif spec.cluster_ip in cluster_ips:
            raise ClusterError(f"service {service.key}: clusterIP {spec.cluster_ip} is also "
                               f"{cluster_ips[spec.cluster_ip]}'s")
        else:
            cluster_ips[spec.cluster_ip] = service.key
        for port in spec.ports:
            if spec.type in ("NodePort", "LoadBalancer") and \
                    port.node_port not in NODE_PORT_RANGE:
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
                               "address the provider gave it")
        if service.status.load_balancer_ip_mode not in (None, "VIP", "Proxy"):
            raise ClusterError(f"service {service.key}: ipMode must be VIP or Proxy")
        # which addresses a provider gives is its own to check again when the lab is back
        for address in addresses + ([spec.load_balancer_ip] if spec.load_balancer_ip else []):
            if not _in(address, IPv4Network("0.0.0.0/0")):
                raise ClusterError(f"service {service.key}: load balancer IP {address!r} is "
                                   "not an IPv4 address")
            if lb_ips.setdefault(address, service.key) != service.key:
                raise ClusterError(f"service {service.key}: load balancer IP {address} is "
                                   f"also {lb_ips[address]}'s")


def _in(address: str, network: IPv4Network) -> bool:
    try:
        return IPv4Address(address) in network
    except ValueError:
        return False


def check_slices(slices: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
    for endpoint_slice in slices:
        meta = endpoint_slice.metadata
        where = f"endpointslice {meta.namespace}/{meta.name}"
        validate_endpoint_slice(endpoint_slice)
        if meta.labels.get(MANAGED_BY) == CONTROLLER_NAME:
            raise ClusterError(f"{where}: the EndpointSlice controller keeps it, it is not "
                               "saved")


def check_pods(pods: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
    nodes = saved["Node"]
    spans = {node.name: _span(IPv4Network(node.spec.pod_cidr)) for node in nodes}
    node_ips = {node.name: node.status.internal_ip for node in nodes}
    addresses: dict[str, str] = {}
    valid: set = set()
    for pod in pods:
        validate_pod(pod, valid)
        if pod.spec.node_name is None and pod.status.pod_ip is None:
            continue   # Pending: no node fits it yet, so no address either
        span = spans.get(pod.spec.node_name)
        if span is None:
            raise ClusterError(f"pod {pod.key}: spec.nodeName {pod.spec.node_name!r} is not "
                               "a node of the lab")
        address = pod.status.pod_ip
        if pod.spec.host_network:   # the node's own address, shared by its hostNetwork pods
            if address not in (None, node_ips[pod.spec.node_name]):
                raise ClusterError(f"pod {pod.key}: status.podIP {address!r} is not node "
                                   f"{pod.spec.node_name}'s address (hostNetwork)")
            continue
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


def check_ingresses(ingresses: list, saved: Saved, cluster_cidr: IPv4Network) -> None:
    services = saved["Service"]
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
