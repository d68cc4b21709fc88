"""A NetworkPolicy as Cilium's policy repository holds it after import (pkg/k8s
network_policy.go parsing), printed by `cilium policy get`: selectors keyed by label
source (`any:` for the pod's labels, `k8s:` for the namespace ones), the pod namespace
added to every endpoint selector, ipBlocks as CIDR sets, ports as toPorts."""

from __future__ import annotations

import json

from playground.cluster.netpol.model import INGRESS, NetworkPolicy, NetworkPolicyPeer
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.security_identity import NAMESPACE_LABEL, NAMESPACE_LABELS

DERIVED = "io.cilium.k8s.policy"


def _selector(selector: LabelSelector | None, prefix: str, extra: dict | None = None,
              expressions: list | None = None) -> dict:
    labels = {f"{prefix}{key}": value for key, value in
              sorted((selector.match_labels if selector else {}).items())}
    labels.update(extra or {})
    found = [{"key": f"{prefix}{e.key}", "operator": e.operator,
              **({"values": list(e.values)} if e.values else {})}
             for e in (selector.match_expressions if selector else [])]
    found += expressions or []
    data: dict = {}
    if labels:
        data["matchLabels"] = labels
    if found:
        data["matchExpressions"] = found
    return data


def _peer(policy: NetworkPolicy, peer: NetworkPolicyPeer) -> tuple[str, dict]:
    if peer.ip_block is not None:
        block = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        return "CIDRSet", block
    pods = _selector(peer.pod_selector, "any:")
    if peer.namespace_selector is None:
        pods.setdefault("matchLabels", {})[f"k8s:{NAMESPACE_LABEL}"] = policy.metadata.namespace
        return "Endpoints", pods
    spaces = _selector(peer.namespace_selector, f"k8s:{NAMESPACE_LABELS}", expressions=[
        {"key": f"k8s:{NAMESPACE_LABEL}", "operator": "Exists"}])
    merged = {"matchLabels": {**pods.get("matchLabels", {}), **spaces.get("matchLabels", {})},
              "matchExpressions": pods.get("matchExpressions", [])
              + spaces.get("matchExpressions", [])}
    return "Endpoints", {key: value for key, value in merged.items() if value}


def rule_of(policy: NetworkPolicy) -> dict:
    namespace = policy.metadata.namespace
    rule: dict = {"endpointSelector": _selector(policy.spec.pod_selector, "any:", {
        f"k8s:{NAMESPACE_LABEL}": namespace})}
    for direction in policy.spec.policy_types:
        word, towards = ("ingress", "from") if direction == INGRESS else ("egress", "to")
        rules = []
        for source in policy.rules(direction):
            out: dict = {}
            for peer in source.peers:
                field, value = _peer(policy, peer)
                out.setdefault(towards + field, []).append(value)
            if not source.peers:
                out[towards + "Endpoints"] = [{}]
            if source.ports:
                out["toPorts"] = [{"ports": [
                    {"port": str(p.port or 0), **({"endPort": p.end_port} if p.end_port else {}),
                     "protocol": p.protocol} for p in source.ports]}]
            rules.append(out)
        rule[word] = rules
    rule["enableDefaultDeny"] = {"ingress": INGRESS in policy.spec.policy_types,
                                 "egress": "Egress" in policy.spec.policy_types}
    rule["labels"] = [{"key": f"{DERIVED}.derived-from", "value": "NetworkPolicy",
                       "source": "k8s"},
                      {"key": f"{DERIVED}.name", "value": policy.metadata.name, "source": "k8s"},
                      {"key": f"{DERIVED}.namespace", "value": namespace, "source": "k8s"},
                      {"key": f"{DERIVED}.uid", "value": policy.metadata.uid, "source": "k8s"}]
    return rule


def policy_get(policies: list[NetworkPolicy], revision: int) -> str:
    """`cilium policy get`: the repository's rules as JSON, then its revision."""
    rules = [rule_of(policy) for policy in sorted(policies, key=lambda p: p.key)]
    return json.dumps(rules, indent=2) + f"\nRevision: {revision}\n"
