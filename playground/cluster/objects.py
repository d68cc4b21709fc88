"""Kubernetes API objects, as typed records, with the validation the API server applies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network

from playground.cluster import validation
from playground.cluster.dns.pod_dns import dns_errors
from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.validation import ValidationError

PROTOCOLS = validation.MODELLED_PROTOCOLS
__all__ = ["ValidationError"]

# the namespaces the API server makes itself
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass
class LabelSelectorRequirement:
    """One of a label selector's matchExpressions."""

    key: str
    operator: str
    values: list[str] = field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        return (self.key in labels) == (self.operator == "Exists")


def selector_matches(match_labels: dict[str, str], expressions: list[LabelSelectorRequirement],
                     labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items()) and \
        all(e.matches(labels) for e in expressions)


def selector_text(match_labels: dict[str, str],
                  expressions: list[LabelSelectorRequirement]) -> str:
    """As kubectl shows a selector: requirements sorted by key, `k=v`, `k in (a,b)`, `k`,
    `!k`."""
    parts = [(k, f"{k}={v}") for k, v in match_labels.items()]
    for e in expressions:
        shown = {"In": f"{e.key} in ({','.join(sorted(e.values))})",
                 "NotIn": f"{e.key} notin ({','.join(sorted(e.values))})",
                 "Exists": e.key, "DoesNotExist": f"!{e.key}"}[e.operator]
        parts.append((e.key, shown))
    return ",".join(text for _key, text in sorted(parts)) or "<none>"


def validate_selector(where: str, match_labels: dict[str, str],
                      expressions: list[LabelSelectorRequirement],
                      labels: dict[str, str]) -> None:
    """A workload's spec.selector: not empty, well formed, and matching its template."""
    if not match_labels and not expressions:
        kind = where.split(" ", 1)[0]
        raise ValidationError(f"{where}: spec.selector: Invalid value: \"{{}}\": empty "
                              f"selector is invalid for {kind}")
    for index, e in enumerate(expressions):
        path = f"{where}: spec.selector.matchExpressions[{index}]"
        if e.operator not in SELECTOR_OPERATORS:
            raise ValidationError(f"{path}.operator: Invalid value: \"{e.operator}\": not a "
                                  "valid selector operator")
        if e.operator in ("In", "NotIn") and not e.values:
            raise ValidationError(f"{path}.values: Required value: must be specified when "
                                  "`operator` is 'In' or 'NotIn'")
        if e.operator in ("Exists", "DoesNotExist") and e.values:
            raise ValidationError(f"{path}.values: Forbidden: may not be specified when "
                                  "`operator` is 'Exists' or 'DoesNotExist'")
    if not selector_matches(match_labels, expressions, labels):
        shown = ",".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
        raise ValidationError(f"{where}: spec.template.metadata.labels: Invalid value: "
                              f"map[string]string{{{shown}}}: `selector` does not match "
                              "template `labels`")


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
        for ref in self.owner_references:   # a loop, not next(): called per pod per sync
            if ref.controller:
                return ref
        return None


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
    host_port: int | None = None   # the node's port the CNI's portmap forwards to it
    host_ip: str = ""              # the node address it is forwarded on ("" : every one)


@dataclass
class Container:
    name: str
    image: str = "nginx"
    ports: list[ContainerPort] = field(default_factory=list)


NOT_READY_TAINT = "node.kubernetes.io/not-ready"


@dataclass
class Taint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"
    time_added: float | None = None   # lab time a NoExecute taint was added


@dataclass
class Toleration:
    key: str = ""
    operator: str = "Exists"
    effect: str = ""
    value: str = ""   # with operator Equal

    def tolerates(self, taint: Taint) -> bool:
        key_ok = not self.key or self.key == taint.key
        effect_ok = not self.effect or self.effect == taint.effect
        value_ok = self.operator != "Equal" or self.value == taint.value
        return key_ok and effect_ok and value_ok


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
    node_selector: dict[str, str] = field(default_factory=dict)
    hostname: str = ""    # a StatefulSet's pod: its own name, found as HOSTNAME.SUBDOMAIN
    subdomain: str = ""   # the headless Service that gives the pod its DNS name
    host_network: bool = False   # the node's network namespace: no veth, the node's IP
    dns_policy: str = "ClusterFirst"   # spec.dnsPolicy, the API's default
    dns_config: DnsConfig | None = None   # spec.dnsConfig: added to (or, with None, all of)


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

    def host_ports(self) -> list[ContainerPort]:
        """The ports it asks of its node (what the scheduler's NodePorts filter counts)."""
        return [p for c in self.spec.containers for p in c.ports if p.host_port is not None]

    @property
    def terminating(self) -> bool:
        return self.metadata.deletion_timestamp is not None

    @property
    def ready(self) -> bool:
        """The Ready condition: its containers run (the lab has no readiness probes)."""
        return self.status.phase == "Running"


KINDS = {"namespace": "Namespace", "pod": "Pod", "service": "Service", "node": "Node",
         "deployment": "Deployment", "ingress": "Ingress", "endpointslice": "EndpointSlice",
         "replicaset": "ReplicaSet", "daemonset": "DaemonSet", "statefulset": "StatefulSet"}


def validate_name(kind: str, name: str, subdomain: bool = False) -> None:
    """The object's name by its kind's rule (validation.NAME_RULES); `subdomain` is implied."""
    api_kind = KINDS[kind]
    validation.check(api_kind, name, validation.name_errors(api_kind, name))


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


def host_network_defaults(containers: list[Container], host_network: bool) -> list[Container]:
    """SetDefaults_PodSpec: on the node's network a port left without hostPort gets its
    containerPort as hostPort (new records: a container list may be shared)."""
    if not host_network or all(p.host_port is not None for c in containers for p in c.ports):
        return containers
    return [replace(c, ports=[p if p.host_port is not None else
                              replace(p, host_port=p.container_port) for p in c.ports])
            for c in containers]


def validate_pod(pod: Pod, valid: set | None = None) -> None:
    """`valid`, when checking many pods, remembers what passed: namespaces, and container
    lists by identity (pods read from one lab file share them)."""
    namespace, containers, meta = pod.metadata.namespace, pod.spec.containers, pod.metadata
    tolerations, seen = pod.spec.tolerations, valid is not None and id(containers) in valid
    errors = validation.name_errors("Pod", pod.name)
    if valid is None or namespace not in valid:
        errors += validation.namespace_errors(namespace)
    errors += validation.labels_errors(meta.labels)
    if meta.annotations:   # most pods have none, nor tolerations: no call for them
        errors += validation.annotations_errors(meta.annotations)
    if tolerations:
        errors += validation.tolerations_errors(tolerations)
    if pod.spec.host_network:
        errors += validation.host_network_errors(True, containers)
    if pod.spec.dns_policy != "ClusterFirst" or pod.spec.dns_config is not None:
        errors += dns_errors(pod.spec.dns_policy, pod.spec.dns_config)
    if not seen:
        errors += validation.container_errors(containers)
    validation.check("Pod", pod.name, errors)
    if FIXED_IP_ANNOTATION in meta.annotations:
        requested_ip(pod)
    if not seen:
        validate_containers(f"pod {pod.key}", containers)
    if tolerations:
        validate_tolerations(f"pod {pod.key}", tolerations)
    if valid is not None:
        valid.update((namespace, id(containers)))


def validate_tolerations(where: str, tolerations: list[Toleration]) -> None:
    for index, toleration in enumerate(tolerations):
        path = f"{where}: spec.tolerations[{index}]"
        if toleration.operator not in ("Exists", "Equal"):
            raise ValidationError(f"{path}.operator: Unsupported value: "
                                  f"\"{toleration.operator}\": supported values: \"Equal\", "
                                  "\"Exists\"")
        if toleration.operator == "Exists" and toleration.value:
            raise ValidationError(f"{path}.operator: Invalid value: \"{toleration.value}\": "
                                  "value must be empty when `operator` is 'Exists'")
        if toleration.effect not in ("", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ValidationError(f"{path}.effect: Unsupported value: \"{toleration.effect}\": "
                                  "supported values: \"NoSchedule\", \"PreferNoSchedule\", "
                                  "\"NoExecute\"")


def validate_containers(where: str, containers: list[Container]) -> None:
    """What the field rules (validation.container_errors) leave: a port taken twice."""
    claimed: dict[tuple[int, str], str] = {}
    for container in containers:
        for port in container.ports:
            key = (port.container_port, port.protocol)
            if key in claimed:
                raise ValidationError(
                    f"{where}: containers {claimed[key]} and {container.name} both listen on "
                    f"{port.protocol} port {port.container_port}; the containers of a pod "
                    "share one network namespace, so a port can be taken only once"
                )
            claimed[key] = container.name
