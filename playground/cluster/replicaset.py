"""ReplicaSet objects, the pod template they share with Deployments, and its hash.

The `pod-template-hash` label is made as Kubernetes' ComputeHash makes it
(pkg/controller/controller_utils.go): the 32-bit FNV-1a hash of the printed pod template,
its decimal digits mapped through SafeEncodeString onto the alphabet of generated names.
Kubernetes prints its Go PodTemplateSpec (spew's %#v); the lab prints its own template in
the same way, so a template's hash is stable here but not the one a real cluster shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.objects import (
    Container,
    LabelSelectorRequirement,
    Named,
    ObjectMeta,
    Pod,
    Toleration,
    ValidationError,
    validate_name,
    validate_pod,
    validate_selector,
)
from playground.cluster.pod_template import PodTemplate
from playground.cluster.validation import check
from playground.numbers import is_whole

# k8s.io/apimachinery/pkg/util/rand: no vowels (no words), no 0, 1, 3 (no look-alikes)
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HASH_LABEL = "pod-template-hash"   # apps/v1 DefaultDeploymentUniqueLabelKey
REVISION = "deployment.kubernetes.io/revision"
FNV32_OFFSET, FNV32_PRIME = 0x811C9DC5, 0x01000193


@dataclass
class ReplicaSetStatus:
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0


@dataclass
class ReplicaSet(Named):
    metadata: ObjectMeta
    replicas: int
    selector: dict[str, str]
    template: PodTemplate
    status: ReplicaSetStatus = field(default_factory=ReplicaSetStatus)
    min_ready_seconds: int = 0
    selector_expressions: list[LabelSelectorRequirement] = field(default_factory=list)
    kind: str = "ReplicaSet"

    @property
    def revision(self) -> int:
        text = self.metadata.annotations.get(REVISION, "0")
        return int(text) if is_whole(text) and len(text) < 19 else 0


def fnv32a(data: bytes) -> int:
    value = FNV32_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character to the alphabet, by its code point."""
    return "".join(NAME_ALPHABET[ord(char) % len(NAME_ALPHABET)] for char in text)


def random_suffix(rng, length: int = 5) -> str:
    """rand.String(5), what generateName appends: from the lab's seeded random source."""
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(length))


def print_template(labels: dict[str, str], containers: list[Container],
                   node_selector: dict[str, str] | None = None,
                   tolerations: list[Toleration] | None = None,
                   host_network: bool = False, dns_policy: str = "ClusterFirst",
                   dns_config: DnsConfig | None = None) -> str:
    """The template as spew prints a Go value with %#v: type names, fields in order, map
    keys sorted (fields left empty or at their default are left out, so a template without
    them hashes as it did before the lab had them)."""
    shown_labels = " ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
    parts = []
    for c in containers:
        ports = " ".join(f'{{Name:"{p.name or ""}" ContainerPort:{p.container_port} '
                         f'Protocol:"{p.protocol}"}}' for p in c.ports)
        parts.append(f'{{Name:"{c.name}" Image:"{c.image}" Ports:[]ContainerPort{{{ports}}}}}')
    extra = ""
    if dns_policy != "ClusterFirst":   # PodSpec's order: DNSPolicy before NodeSelector
        extra += f' DNSPolicy:"{dns_policy}"'
    if node_selector:
        shown = " ".join(f'"{k}":"{v}"' for k, v in sorted(node_selector.items()))
        extra += f" NodeSelector:map[string]string{{{shown}}}"
    if host_network:   # PodSpec's order: NodeSelector, ..., HostNetwork, ..., Tolerations
        extra += " HostNetwork:true"
    if tolerations:
        shown = " ".join(f'{{Key:"{t.key}" Operator:"{t.operator}" Value:"{t.value}" '
                         f'Effect:"{t.effect}"}}' for t in tolerations)
        extra += f" Tolerations:[]Toleration{{{shown}}}"
    if dns_config is not None:   # after Tolerations
        options = " ".join(f'{{Name:"{o.partition(":")[0]}" Value:"{o.partition(":")[2]}"}}'
                           for o in dns_config.options)
        servers = " ".join(f'"{s}"' for s in dns_config.nameservers)
        searches = " ".join(f'"{s}"' for s in dns_config.searches)
        extra += (f" DNSConfig:&PodDNSConfig{{Nameservers:[]string{{{servers}}} "
                  f"Searches:[]string{{{searches}}} Options:[]PodDNSConfigOption{{{options}}}}}")
    return (f"PodTemplateSpec{{ObjectMeta:{{Labels:map[string]string{{{shown_labels}}}}} "
            f"Spec:PodSpec{{Containers:[]Container{{{' '.join(parts)}}}{extra}}}}}")


def template_hash(labels: dict[str, str], containers: list[Container],
                  collisions: int | None = None, node_selector: dict[str, str] | None = None,
                  tolerations: list[Toleration] | None = None,
                  host_network: bool = False, dns_policy: str = "ClusterFirst",
                  dns_config: DnsConfig | None = None) -> str:
    data = print_template(labels, containers, node_selector, tolerations, host_network,
                          dns_policy, dns_config).encode()
    if collisions is not None:   # as ComputeHash: the count's 8 little-endian bytes appended
        data += collisions.to_bytes(8, "little")
    return safe_encode(str(fnv32a(data)))


def workload_hash(workload, collisions: int | None = None) -> str:
    """The hash of a Deployment's (or ReplicaSet's) pod template."""
    template = workload.template
    return template_hash(without_hash(template.labels), template.containers, collisions,
                         template.node_selector, template.tolerations, template.host_network,
                         template.dns_policy, template.dns_config)


def without_hash(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != HASH_LABEL}


def same_template(rs: ReplicaSet, workload) -> bool:
    """EqualIgnoreHash: the ReplicaSet runs this template, whatever its hash label."""
    ours, theirs = rs.template, workload.template
    return without_hash(ours.labels) == without_hash(theirs.labels) and \
        replace(ours, labels={}) == replace(theirs, labels={})


def validate_replica_set(rs: ReplicaSet) -> None:
    validate_name("namespace", rs.metadata.namespace)
    validate_name("replicaset", rs.name, subdomain=True)
    where = f"replicaset {rs.key}"
    if rs.replicas < 0:
        raise ValidationError(f"{where}: spec.replicas: must be greater than or equal to 0")
    validate_selector(where, rs.selector, rs.selector_expressions, rs.template.labels)
    check("ReplicaSet", rs.name, rs.template.errors())
    validate_pod(Pod(ObjectMeta("probe", rs.metadata.namespace), rs.template.pod_spec()))
