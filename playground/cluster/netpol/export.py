"""A NetworkPolicy as the manifest `kubectl get -o yaml` would show its spec."""

from __future__ import annotations

from playground.cluster.netpol.model import NetworkPolicy, NetworkPolicyPeer, NetworkPolicyRule


def spec_document(policy: NetworkPolicy) -> dict:
    spec = policy.spec
    data: dict = {"podSelector": spec.pod_selector.to_dict()}
    if spec.ingress:
        data["ingress"] = [_rule(rule, "from") for rule in spec.ingress]
    if spec.egress:
        data["egress"] = [_rule(rule, "to") for rule in spec.egress]
    data["policyTypes"] = list(spec.policy_types)
    return data


def _rule(rule: NetworkPolicyRule, peers: str) -> dict:
    data: dict = {}
    if rule.peers:
        data[peers] = [_peer(peer) for peer in rule.peers]
    if rule.ports:
        data["ports"] = [{"protocol": p.protocol,
                          **({"port": p.port} if p.port is not None else {}),
                          **({"endPort": p.end_port} if p.end_port is not None else {})}
                         for p in rule.ports]
    return data


def _peer(peer: NetworkPolicyPeer) -> dict:
    data: dict = {}
    if peer.ip_block is not None:
        data["ipBlock"] = {"cidr": peer.ip_block.cidr,
                           **({"except": list(peer.ip_block.except_)}
                              if peer.ip_block.except_ else {})}
    if peer.namespace_selector is not None:
        data["namespaceSelector"] = peer.namespace_selector.to_dict()
    if peer.pod_selector is not None:
        data["podSelector"] = peer.pod_selector.to_dict()
    return data
