"""Who an address is, as Cilium's endpoint and identity resolution tells Hubble: a pod (its
namespace, name, labels and the security identity of its label set), the observing node
(`host`), another node (`remote-node`), or anything else (`world`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster
from playground.cluster.netpol.selectors import namespace_labels
from playground.cluster.security_identity import IdentityAllocator, pod_labels
from playground.net.bpf.ipcache import HOST, REMOTE_NODE, WORLD

RESERVED = {HOST: "host", WORLD: "world", REMOTE_NODE: "remote-node"}


@dataclass(frozen=True)
class Endpoint:
    identity: int
    labels: tuple[str, ...] = ()
    namespace: str = ""
    pod_name: str = ""
    node: str = ""   # the node a pod runs on

    def to_json(self) -> dict:
        data: dict = {"identity": self.identity}
        if self.namespace:
            data["namespace"] = self.namespace
        data["labels"] = list(self.labels)
        if self.pod_name:
            data["pod_name"] = self.pod_name
        return data


@dataclass
class Directory:
    """The lab's addresses at one moment: pods, nodes and Service frontends."""
    pods: dict[str, Endpoint] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)   # InternalIP -> node name
    services: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)

    def endpoint(self, address: str, observer: str) -> Endpoint:
        if address in self.pods:
            return self.pods[address]
        node = self.nodes.get(address)
        if node is None:
            return Endpoint(WORLD, ("reserved:world",))
        if node == observer:
            return Endpoint(HOST, ("reserved:host",))
        return Endpoint(REMOTE_NODE, ("reserved:remote-node",))

    def service(self, address: str, port: int) -> tuple[str, str] | None:
        """(namespace, name) of the Service with this frontend, as GetServiceByAddr."""
        return self.services.get((address, port))


def directory(cluster: Cluster) -> Directory:
    """Identities numbered as Cilium's agent numbers them, so a Cilium lab's flows and its
    `cilium identity list` agree (pods by creation, as the allocator met them)."""
    found = Directory()
    identities = IdentityAllocator()
    pods = sorted(cluster.pods(), key=lambda p: (p.metadata.created_at, p.metadata.uid))
    namespaces = {ns.metadata.name: ns.metadata.labels for ns in cluster.api.list("Namespace")}
    for pod in pods:
        namespace = pod.metadata.namespace
        labels = pod_labels(pod.metadata.labels, namespace,
                            namespace_labels(namespace, namespaces.get(namespace, {})), "default")
        number = identities.allocate(labels)
        if pod.status.pod_ip and not pod.spec.host_network:
            found.pods[pod.status.pod_ip] = Endpoint(number, labels, pod.metadata.namespace,
                                                     pod.name, pod.spec.node_name or "")
    for node in cluster.nodes():
        if node.status.internal_ip:
            found.nodes[node.status.internal_ip] = node.name
    for service in cluster.services():
        key = (service.metadata.namespace, service.name)
        frontends = [a for a in [service.spec.cluster_ip, *service.spec.external_ips,
                                 *service.status.load_balancer_ips] if a and a != "None"]
        for port in service.spec.ports:
            for address in frontends:
                found.services[(address, port.port)] = key
            if port.node_port:
                for ip in found.nodes:
                    found.services[(ip, port.node_port)] = key
    return found
