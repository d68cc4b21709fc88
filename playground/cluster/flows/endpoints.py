"""Who an address is, as Cilium's endpoint and identity resolution tells Hubble: a pod (its
namespace, name, labels and the security identity of its label set), the observing node
(`host`), another node (`remote-node`), or anything else (`world`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster

# Cilium's reserved identities (pkg/identity/numericidentity.go)
HOST, WORLD, REMOTE_NODE = 1, 2, 6
RESERVED = {HOST: "host", WORLD: "world", REMOTE_NODE: "remote-node"}
FIRST_CLUSTER_IDENTITY = 256   # identities of label sets are allocated from here on


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


def identity_labels(pod) -> tuple[str, ...]:
    """The labels Cilium derives an identity from: the pod's, and its namespace's."""
    labels = {f"k8s:{k}={v}" for k, v in pod.metadata.labels.items()}
    labels |= {"k8s:io.cilium.k8s.policy.cluster=default",
               "k8s:io.cilium.k8s.policy.serviceaccount=default",
               f"k8s:io.kubernetes.pod.namespace={pod.metadata.namespace}"}
    return tuple(sorted(labels))


def directory(cluster: Cluster) -> Directory:
    """Identities numbered by the order their label sets first appear (pods by creation)."""
    found = Directory()
    identities: dict[tuple[str, ...], int] = {}
    pods = sorted(cluster.pods(), key=lambda p: (p.metadata.created_at, p.metadata.uid))
    for pod in pods:
        labels = identity_labels(pod)
        number = identities.setdefault(labels, FIRST_CLUSTER_IDENTITY + len(identities))
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
