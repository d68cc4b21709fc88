"""What the evaluator reads: the policies, the namespaces' labels, and each end of a
connection as a Peer (a pod, or an address that is no pod)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.cluster.netpol.model import NetworkPolicy
from playground.cluster.netpol.selectors import namespace_labels


@dataclass(frozen=True)
class NamedPort:
    """A container port that has a name, which a policy's `port: http` resolves to."""

    name: str
    protocol: str
    port: int


@dataclass(frozen=True)
class Peer:
    """One end of a connection. A pod has a namespace and name; an address alone (a node,
    a hostNetwork pod, something outside) has neither and no pod selector matches it."""

    ip: str
    namespace: str | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[NamedPort, ...] = ()
    node: str = ""   # a pod's node; for a node's own address, that node

    @property
    def is_pod(self) -> bool:
        return self.name is not None

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.is_pod else self.ip

    def named_port(self, name: str, protocol: str) -> int | None:
        for port in self.ports:
            if port.name == name and port.protocol == protocol:
                return port.port
        return None

    @classmethod
    def of_pod(cls, pod) -> Peer:
        """A pod of the API as a Peer; a hostNetwork pod has its node's address and is not
        a pod to policy (NetworkPolicy does not apply to hostNetwork pods)."""
        ip = pod.status.pod_ip or ""
        if pod.spec.host_network:
            return cls(ip, node=pod.spec.node_name or "")
        return cls(ip, pod.metadata.namespace, pod.metadata.name,
                   tuple(sorted(pod.metadata.labels.items())),
                   tuple(NamedPort(p.name, p.protocol, p.container_port)
                         for _c, p in pod.ports() if p.name), pod.spec.node_name or "")


@dataclass
class PolicyView:
    policies: list[NetworkPolicy] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> labels
    pods: list[Peer] = field(default_factory=list)   # the pods with an address, as Peers
    nodes: dict[str, str] = field(default_factory=dict)   # a node's InternalIP -> its name

    @classmethod
    def from_api(cls, api) -> PolicyView:
        namespaces = {ns.metadata.name: namespace_labels(ns.metadata.name, ns.metadata.labels)
                      for ns in api.list("Namespace")}
        pods = [Peer.of_pod(p) for p in api.list("Pod")
                if p.status.pod_ip and not p.spec.host_network and not p.terminating]
        nodes = {n.status.internal_ip: n.name for n in api.list("Node") if n.status.internal_ip}
        return cls(list(api.list("NetworkPolicy")), namespaces, pods, nodes)

    def namespace_labels(self, name: str | None) -> dict[str, str]:
        if name is None:
            return {}
        return self.namespaces.get(name) or namespace_labels(name, {})

    def peer_at(self, ip: str | IPv4Address) -> Peer:
        """The pod with that address, a node by its address, or the bare address."""
        text = str(ip)
        for pod in self.pods:
            if pod.ip == text:
                return pod
        return Peer(text, node=self.nodes.get(text, ""))

    def pod(self, namespace: str, name: str) -> Peer | None:
        for pod in self.pods:
            if pod.namespace == namespace and pod.name == name:
                return pod
        return None
