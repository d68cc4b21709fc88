"""The NetworkPolicy record: spec.podSelector, policyTypes, ingress/egress rules, their
peers (podSelector, namespaceSelector, ipBlock) and ports (number or name, endPort)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import Named, ObjectMeta

INGRESS, EGRESS = "Ingress", "Egress"
POLICY_TYPES = (INGRESS, EGRESS)
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass
class IPBlock:
    cidr: str
    except_: list[str] = field(default_factory=list)   # `except` in the API


@dataclass
class NetworkPolicyPeer:
    """podSelector and namespaceSelector together select pods by both (AND); ipBlock is
    alone in its peer (validation)."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass
class NetworkPolicyPort:
    protocol: str = "TCP"           # defaulted to TCP when omitted
    port: int | str | None = None   # None: every port of the protocol
    end_port: int | None = None     # with a numeric port: the range port..endPort


@dataclass
class NetworkPolicyRule:
    """An ingress rule (its `from`) or an egress rule (its `to`): no peers is every peer,
    no ports is every port."""

    peers: list[NetworkPolicyPeer] = field(default_factory=list)
    ports: list[NetworkPolicyPort] = field(default_factory=list)


@dataclass
class NetworkPolicySpec:
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    ingress: list[NetworkPolicyRule] = field(default_factory=list)
    egress: list[NetworkPolicyRule] = field(default_factory=list)
    policy_types: list[str] = field(default_factory=list)   # defaulted: default_policy_types


@dataclass
class NetworkPolicy(Named):
    metadata: ObjectMeta
    spec: NetworkPolicySpec = field(default_factory=NetworkPolicySpec)
    kind: str = "NetworkPolicy"

    def applies_to(self, direction: str) -> bool:
        """Does it isolate the pods it selects for `direction` (Ingress or Egress)?"""
        return direction in self.spec.policy_types

    def rules(self, direction: str) -> list[NetworkPolicyRule]:
        return self.spec.ingress if direction == INGRESS else self.spec.egress


def default_policy_types(spec: NetworkPolicySpec, given: list[str] | None) -> list[str]:
    """policyTypes when omitted, as the API server defaults it (SetDefaults_NetworkPolicy):
    Ingress always, Egress too when the spec has egress rules."""
    if given:
        return list(given)
    return [INGRESS, EGRESS] if spec.egress else [INGRESS]


def rule_word(direction: str) -> tuple[str, str]:
    """The field names a rule path uses: ("ingress", "from") or ("egress", "to")."""
    return ("ingress", "from") if direction == INGRESS else ("egress", "to")
