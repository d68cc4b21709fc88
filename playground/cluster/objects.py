"""Kubernetes API objects, as typed records, with the validation the API server applies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PROTOCOLS = ("TCP", "UDP")


class ValidationError(ValueError):
    """An object the API server would refuse; the message names the field."""


@dataclass
class OwnerReference:
    """metadata.ownerReferences[]: who made the object (a ReplicaSet its pods), and so who
    the garbage collector deletes it with."""

    kind: str
    name: str
    uid: str
    controller: bool = True


@dataclass
class ObjectMeta:
    name: str
    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    uid: str = ""
    resource_version: int = 0
    created_at: float = 0.0
    deletion_requested: bool = False
    owner_references: list[OwnerReference] = field(default_factory=list)
    deletion_timestamp: float | None = None   # lab time the graceful deletion ends

    def controller_ref(self) -> OwnerReference | None:
        return next((ref for ref in self.owner_references if ref.controller), None)


class Named:
    """`name` and `key` (NAMESPACE/NAME) for every object with metadata."""

    metadata: ObjectMeta

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def key(self) -> str:
        return f"{self.metadata.namespace}/{self.metadata.name}"


@dataclass
class KubeNamespace(Named):
    metadata: ObjectMeta
    kind: str = "Namespace"


@dataclass
class ContainerPort:
    container_port: int
    name: str | None = None
    protocol: str = "TCP"


@dataclass
class Container:
    name: str
    image: str = "nginx"
    ports: list[ContainerPort] = field(default_factory=list)


@dataclass
class Taint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclass
class Toleration:
    key: str = ""
    operator: str = "Exists"
    effect: str = ""

    def tolerates(self, taint: Taint) -> bool:
        key_ok = not self.key or self.key == taint.key
        effect_ok = not self.effect or self.effect == taint.effect
        return key_ok and effect_ok


@dataclass
class NodeSpec:
    pod_cidr: str | None = None
    taints: list[Taint] = field(default_factory=list)


@dataclass
class NodeStatus:
    internal_ip: str | None = None
    external_ip: str | None = None
    ready: bool = False


@dataclass
class Node(Named):
    metadata: ObjectMeta
    spec: NodeSpec = field(default_factory=NodeSpec)
    status: NodeStatus = field(default_factory=NodeStatus)
    kind: str = "Node"

    @property
    def roles(self) -> str:
        roles = [key.split("/", 1)[1] for key in self.metadata.labels
                 if key.startswith("node-role.kubernetes.io/")]
        return ",".join(sorted(roles)) or "<none>"


DEFAULT_GRACE_SECONDS = 30   # spec.terminationGracePeriodSeconds when not given


@dataclass
class PodSpec:
    containers: list[Container]
    node_name: str | None = None
    tolerations: list[Toleration] = field(default_factory=list)
    termination_grace_period_seconds: int = DEFAULT_GRACE_SECONDS


@dataclass
class PodStatus:
    phase: str = "Pending"
    pod_ip: str | None = None
    host_ip: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class Pod(Named):
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus = field(default_factory=PodStatus)
    kind: str = "Pod"

    def ports(self) -> list[tuple[Container, ContainerPort]]:
        return [(c, p) for c in self.spec.containers for p in c.ports]

    @property
    def terminating(self) -> bool:
        return self.metadata.deletion_timestamp is not None

    @property
    def ready(self) -> bool:
        """The Ready condition: its containers run (the lab has no readiness probes)."""
        return self.status.phase == "Running"


def validate_name(kind: str, name: str, subdomain: bool = False) -> None:
    pattern = DNS1123_SUBDOMAIN if subdomain else DNS1123_LABEL
    limit = 253 if subdomain else 63
    if not name or len(name) > limit or not pattern.match(name):
        raise ValidationError(
            f"{kind} name {name!r} is invalid: use lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit (at most {limit} characters)"
        )


def validate_node(node: Node) -> None:
    validate_name("node", node.name, subdomain=True)
    if node.spec.pod_cidr is not None:
        try:
            IPv4Network(node.spec.pod_cidr)
        except ValueError:
            raise ValidationError(
                f"node {node.name}: spec.podCIDR {node.spec.pod_cidr!r} is not a valid CIDR"
            ) from None
    if node.status.internal_ip is not None:
        try:
            IPv4Address(node.status.internal_ip)
        except ValueError:
            raise ValidationError(
                f"node {node.name}: InternalIP {node.status.internal_ip!r} is not an IPv4 address"
            ) from None


FIXED_IP_ANNOTATION = "cni.projectcalico.org/ipAddrs"


def requested_ip(pod: Pod) -> IPv4Address | None:
    """The address asked for with Calico's annotation, e.g. '["10.244.1.7"]'."""
    text = pod.metadata.annotations.get(FIXED_IP_ANNOTATION)
    if text is None:
        return None
    try:
        addresses = json.loads(text)
        if not (isinstance(addresses, list) and len(addresses) == 1):
            raise ValueError
        return IPv4Address(addresses[0])
    except (ValueError, TypeError):
        raise ValidationError(f"pod {pod.key}: annotation {FIXED_IP_ANNOTATION} must be a JSON "
                              f"list with one IPv4 address, like '[\"10.244.1.7\"]'") from None


def validate_pod(pod: Pod, valid: set | None = None) -> None:
    """`valid`, when checking many pods, remembers what passed: namespaces, and container
    lists by identity (pods read from one lab file share them)."""
    namespace, containers = pod.metadata.namespace, pod.spec.containers
    if valid is None or namespace not in valid:
        validate_name("namespace", namespace)
    if FIXED_IP_ANNOTATION in pod.metadata.annotations:
        requested_ip(pod)
    validate_name("pod", pod.name, subdomain=True)
    if valid is None or id(containers) not in valid:
        validate_containers(f"pod {pod.key}", containers)
    if valid is not None:
        valid.update((namespace, id(containers)))


def validate_containers(where: str, containers: list[Container]) -> None:
    if not containers:
        raise ValidationError(f"{where}: spec.containers must have at least one container")
    names: set[str] = set()
    claimed: dict[tuple[int, str], str] = {}
    for container in containers:
        validate_name("container", container.name)
        if container.name in names:
            raise ValidationError(f"{where}: two containers are named {container.name!r}")
        names.add(container.name)
        for port in container.ports:
            if not 1 <= port.container_port <= 65535:
                raise ValidationError(
                    f"{where}: container {container.name} port {port.container_port} "
                    "must be between 1 and 65535"
                )
            if port.protocol not in PROTOCOLS:
                raise ValidationError(
                    f"{where}: container {container.name} protocol {port.protocol!r} "
                    "must be TCP or UDP"
                )
            if port.name is not None and (len(port.name) > 15 or not PORT_NAME.match(port.name)):
                raise ValidationError(
                    f"{where}: port name {port.name!r} must be a lowercase name of at most "
                    "15 characters"
                )
            key = (port.container_port, port.protocol)
            if key in claimed:
                raise ValidationError(
                    f"{where}: containers {claimed[key]} and {container.name} both listen on "
                    f"{port.protocol} port {port.container_port}; the containers of a pod "
                    "share one network namespace, so a port can be taken only once"
                )
            claimed[key] = container.name
