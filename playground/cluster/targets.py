"""Turn what a user types (pod/web-1, pod/app:sidecar, node/kind-worker, 10.244.1.3)
into a place to send from or an address to send to; legs.py sends between them."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from playground.cluster.cloud import INTERNET_HOST, INTERNET_NAMESPACE
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.controllers.kubelet import pod_namespace_name
from playground.cluster.gateway.status import gateway_view
from playground.cluster.objects import Pod
from playground.numbers import is_whole

FORMS = ("pod/NAME[:CONTAINER], pod/NAMESPACE/NAME, node/NAME, svc/NAME[:PORT], "
         "svc/NAMESPACE/NAME[:PORT], lb/NAME[:PORT], gw/[NAMESPACE/]NAME[:PORT], internet or an "
         "IPv4 address")


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str  # the network namespace
    owner: str  # the container or process that sends or listens
    ip: IPv4Address
    label: str
    pod: Pod | None = None
    port: int | None = None
    protocols: tuple[tuple[str, int], ...] = ()

    def default_port(self, proto: str) -> int:
        """The port given, else the first the target declares for the protocol, else 80."""
        if self.port is not None:
            return self.port
        for declared_proto, number in self.protocols:
            if declared_proto == proto:
                return number
        if self.pod is not None:
            for container, port in self.pod.ports():
                if port.protocol.lower() == proto and (
                    self.owner in ("", container.name)
                ):
                    return port.container_port
        return 53 if proto == "udp" else 80


def resolve(cluster: Cluster, spec: str, namespace: str | None = None) -> Target:
    """`namespace` is where bare names are looked up (kubectl's -n); None means `default`."""
    if spec.startswith("pod/"):
        return _pod(cluster, spec[4:], spec, namespace)
    if spec == "internet":
        return Target(INTERNET_NAMESPACE, "www", INTERNET_HOST, spec)
    if spec.startswith("svc/"):
        return _service(cluster, spec[4:], spec, namespace)
    if spec.startswith("lb/"):
        return _load_balancer(_service(cluster, spec[3:], spec, namespace), cluster, spec,
                              namespace)
    if spec.startswith("gw/"):
        return _gateway(cluster, spec[3:], spec, namespace)
    if spec.startswith("node/"):
        name = spec[5:]
        ns = cluster.node_namespace(name)
        return Target(ns.name, "", cluster.node_ips[name], spec)
    try:
        ip = IPv4Address(spec)
    except ValueError:
        raise ClusterError(f"{spec!r} is not a pod, node or address: use {FORMS}") from None
    owner = cluster.ip_owner(ip)
    if owner is None:
        return Target("", "", ip, spec)
    pod = next((p for p in cluster.pods() if pod_namespace_name(p) == owner
                and not p.spec.host_network), None)   # a node's address is the node's
    return Target(owner, pod.spec.containers[0].name if pod else "", ip, spec, pod)


def _pod(cluster: Cluster, rest: str, spec: str, namespace: str | None) -> Target:
    name, _, container = rest.partition(":")
    if "/" in name:
        namespace, _, name = name.partition("/")
    if not name:
        raise ClusterError(f"{spec!r}: a pod name is missing; use {FORMS}")
    pod = cluster.find_pod(name, namespace or "default")  # as kubectl: default unless -n
    names = [c.name for c in pod.spec.containers]
    if container and container not in names:
        raise ClusterError(f"pod {pod.key} has no container {container!r} "
                           f"(it has {', '.join(names)})")
    if pod.status.pod_ip is None:
        raise ClusterError(f"pod {pod.key} has no IP yet ({pod.status.phase})")
    return Target(pod_namespace_name(pod), container, IPv4Address(pod.status.pod_ip), spec, pod)


def _load_balancer(target: Target, cluster: Cluster, spec: str,
                   namespace: str | None) -> Target:
    name = spec[3:].partition(":")[0]
    given, _, name = name.rpartition("/")
    service = cluster.find_service(name, given or namespace or "default")
    if service.spec.type != "LoadBalancer":
        raise ClusterError(f"service {service.key} is of type {service.spec.type}, so it has no "
                           "load balancer (make it type LoadBalancer)")
    if not service.status.load_balancer_ips:
        raise ClusterError(f"service {service.key} has no load balancer IP yet")
    return Target("", "", IPv4Address(service.status.load_balancer_ips[0]), spec,
                  port=target.port, protocols=target.protocols)


def _service(cluster: Cluster, rest: str, spec: str, namespace: str | None) -> Target:
    name, _, port_text = rest.partition(":")
    namespace = namespace or "default"
    if "/" in name:
        namespace, _, name = name.partition("/")
    service = cluster.find_service(name, namespace)
    declared = tuple((p.protocol.lower(), p.port) for p in service.spec.ports)
    port = None
    if port_text:
        named = [p.port for p in service.spec.ports if p.name == port_text]
        if named:
            port = named[0]
        elif is_whole(port_text) and any(p.port == int(port_text) for p in service.spec.ports):
            port = int(port_text)
        else:
            ports = ", ".join(f"{p.name or '-'}={p.port}" for p in service.spec.ports)
            raise ClusterError(f"service {service.key} has no port {port_text!r} ({ports})")
    return Target("", "", IPv4Address(service.spec.cluster_ip), spec, port=port,
                  protocols=declared)


def _gateway(cluster: Cluster, rest: str, spec: str, namespace: str | None) -> Target:
    """A Gateway's address (its status.addresses) and its listeners' ports."""
    name, _, port_text = rest.partition(":")
    given, _, name = name.rpartition("/")
    namespace = given or namespace or "default"
    gw = cluster.api.peek("Gateway", namespace, name)
    if gw is None:
        raise ClusterError(f'gateways.gateway.networking.k8s.io "{name}" not found in '
                           f'namespace "{namespace}"')
    view = gateway_view(cluster, gw)
    if not view.addresses:
        programmed = next(c for c in view.conditions if c.type == "Programmed")
        raise ClusterError(f"gateway {gw.key} has no address: Programmed {programmed.status} "
                           f"({programmed.reason}: {programmed.message})")
    ports = tuple(("tcp", lst.port) for lst in gw.listeners)
    port = None
    if port_text:
        if not is_whole(port_text) or int(port_text) not in {p for _, p in ports}:
            shown = ", ".join(f"{lst.name}={lst.port}" for lst in gw.listeners)
            raise ClusterError(f"gateway {gw.key} has no listener on port {port_text!r} "
                               f"({shown})")
        port = int(port_text)
    return Target("", "", IPv4Address(view.addresses[0]), spec, port=port, protocols=ports)
