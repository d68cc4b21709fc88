"""A workload's pod template (the API's spec.template, a PodTemplateSpec): the labels and the
spec of the pods it makes, one record for Deployments, ReplicaSets, DaemonSets and
StatefulSets. The selector stays the workload's own, as spec.selector is in the API."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from playground.cluster.dns.pod_dns import dns_errors
from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.objects import Container, PodSpec, Toleration
from playground.cluster.validation import FieldError

SPEC_PATH = "spec.template.spec"   # where the API server names a template's fields


@dataclass
class PodTemplate:
    labels: dict[str, str]   # spec.template.metadata.labels
    containers: list[Container]
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[Toleration] = field(default_factory=list)
    host_network: bool = False   # spec.template.spec.hostNetwork
    dns_policy: str = "ClusterFirst"   # spec.template.spec.dnsPolicy, the API's default
    dns_config: DnsConfig | None = None   # spec.template.spec.dnsConfig

    def pod_spec(self, **more) -> PodSpec:
        """A pod's spec made from the template, `more` set or replaced. Its pods share the
        containers list, as the store never edits an object in place; the rest is copied."""
        given = {"tolerations": list(self.tolerations), "node_selector": dict(self.node_selector),
                 "host_network": self.host_network, "dns_policy": self.dns_policy,
                 "dns_config": self.dns_config, **more}
        return PodSpec(self.containers, **given)


    def errors(self) -> list[FieldError]:
        """What the API server refuses in the template's spec beyond a pod's checks, under
        the template's path (spec.template.spec.dnsConfig.nameservers)."""
        if self.dns_policy == "ClusterFirst" and self.dns_config is None:
            return []
        return dns_errors(self.dns_policy, self.dns_config, SPEC_PATH)


# the template's fields a workload's spec takes as keywords (add_deployment(**spec))
SPEC_FIELDS = frozenset(f.name for f in fields(PodTemplate)) - {"labels", "containers"}


def split_spec(spec: dict) -> tuple[dict, dict]:
    """Keywords of a workload's spec: those of its template, and the rest."""
    return ({k: v for k, v in spec.items() if k in SPEC_FIELDS},
            {k: v for k, v in spec.items() if k not in SPEC_FIELDS})
