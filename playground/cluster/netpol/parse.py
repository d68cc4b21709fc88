"""A NetworkPolicy manifest document to the record, with the API server's defaults
(protocol TCP, policyTypes); shapes are checked here, rules by validate.py."""

from __future__ import annotations

from typing import Any

from playground.cluster.netpol.model import (
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
    default_policy_types,
    rule_word,
)
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import LabelSelectorRequirement, ObjectMeta


def policy_from_doc(doc, name: str, namespace: str) -> NetworkPolicy:
    """`doc` is a ManifestDoc: its get/entries name the field of every shape error."""
    if doc.get("spec", dict) is None:
        doc.fail("spec", "Required value")
    spec = NetworkPolicySpec(selector(doc, doc.get("spec.podSelector", dict, {}),
                                      "spec.podSelector"))
    for direction in ("Ingress", "Egress"):
        field_name, peers_name = rule_word(direction)
        rules = spec.ingress if direction == "Ingress" else spec.egress
        for where, item in doc.entries(f"spec.{field_name}"):
            rules.append(NetworkPolicyRule(
                [peer(doc, node, at) for at, node in doc.entries(peers_name, item, where)],
                [port(doc, node, at) for at, node in doc.entries("ports", item, where)]))
    given = doc.get("spec.policyTypes", list)
    if given is not None and not all(isinstance(t, str) for t in given):
        doc.fail("spec.policyTypes", "expected a list of strings")
    spec.policy_types = default_policy_types(spec, given)
    meta = ObjectMeta(name, namespace, labels=doc.labels("metadata.labels"),
                      annotations=doc.labels("metadata.annotations"))
    return NetworkPolicy(meta, spec)


def selector(doc, node: Any, at: str) -> LabelSelector:
    if not isinstance(node, dict):
        doc.fail(at, "expected a mapping")
    found = []
    for where, item in doc.entries("matchExpressions", node, at):
        values = doc.get("values", list, [], item, where)
        if not all(isinstance(v, str) for v in values):
            doc.fail(f"{where}.values", "expected a list of strings")
        found.append(LabelSelectorRequirement(doc.get("key", str, "", item, where),
                                              doc.get("operator", str, "", item, where),
                                              list(values)))
    labels = doc.get("matchLabels", dict, {}, node, at)
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            doc.fail(f"{at}.matchLabels", f"label {key!r} must map a string to a string")
    return LabelSelector(dict(labels), found)


def peer(doc, node: dict, at: str) -> NetworkPolicyPeer:
    found = NetworkPolicyPeer()
    if node.get("podSelector") is not None:
        found.pod_selector = selector(doc, node["podSelector"], f"{at}.podSelector")
    if node.get("namespaceSelector") is not None:
        found.namespace_selector = selector(doc, node["namespaceSelector"],
                                            f"{at}.namespaceSelector")
    block = doc.get("ipBlock", dict, None, node, at)
    if block is not None:
        cuts = doc.get("except", list, [], block, f"{at}.ipBlock")
        if not all(isinstance(c, str) for c in cuts):
            doc.fail(f"{at}.ipBlock.except", "expected a list of strings")
        found.ip_block = IPBlock(doc.get("cidr", str, "", block, f"{at}.ipBlock"), list(cuts))
    return found


def port(doc, node: dict, at: str) -> NetworkPolicyPort:
    return NetworkPolicyPort(doc.get("protocol", str, "TCP", node, at),
                             doc.get("port", (int, str), None, node, at),
                             doc.get("endPort", int, None, node, at))
