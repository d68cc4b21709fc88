"""ValidateNetworkPolicy as the API server runs it (kubernetes/kubernetes
pkg/apis/networking/validation/validation.go at 019c5dc5): metadata, the label selectors,
each rule's ports and peers, the ipBlocks and policyTypes; every error names its field."""

from __future__ import annotations

from ipaddress import IPv4Network

from playground.cluster import validation
from playground.cluster.netpol.model import (
    POLICY_TYPES,
    PROTOCOLS,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    rule_word,
)
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.validation import FieldError, ValidationError

PORT_RANGE = "must be between 1 and 65535, inclusive"


def validate_network_policy(policy: NetworkPolicy) -> None:
    """ValidationError with kubectl's one line (the first problem named by its field)."""
    meta = policy.metadata
    errors = validation.name_errors("NetworkPolicy", meta.name)
    errors += validation.namespace_errors(meta.namespace)
    errors += validation.labels_errors(meta.labels)
    errors += spec_errors(policy)
    if errors:
        raise ValidationError(validation.invalid("NetworkPolicy", meta.name, errors[:1]))


def spec_errors(policy: NetworkPolicy) -> list[FieldError]:
    spec = policy.spec
    errors = selector_errors(spec.pod_selector, "spec.podSelector")
    for direction, rules in (("Ingress", spec.ingress), ("Egress", spec.egress)):
        field_name, peers_name = rule_word(direction)
        for index, rule in enumerate(rules):
            path = f"spec.{field_name}[{index}]"
            for at, port in enumerate(rule.ports):
                errors += port_errors(port, f"{path}.ports[{at}]")
            for at, peer in enumerate(rule.peers):
                errors += peer_errors(peer, f"{path}.{peers_name}[{at}]")
    if len(spec.policy_types) > len(POLICY_TYPES):
        return errors + [FieldError("spec.policyTypes", "Invalid value", spec.policy_types,
                                    "may not specify more than two policyTypes")]
    for index, kind in enumerate(spec.policy_types):
        if kind not in POLICY_TYPES:
            errors += validation._not_supported(f"spec.policyTypes[{index}]", kind,
                                                POLICY_TYPES)
    return errors


def selector_errors(selector: LabelSelector, path: str) -> list[FieldError]:
    """ValidateLabelSelector: the keys and values of matchLabels, each expression's
    operator and values."""
    errors = validation.selector_errors(selector.match_labels, f"{path}.matchLabels")
    for index, e in enumerate(selector.match_expressions):
        where = f"{path}.matchExpressions[{index}]"
        if e.operator in ("In", "NotIn") and not e.values:
            errors.append(FieldError(f"{where}.values", "Required value",
                                     detail="must be specified when `operator` is 'In' or "
                                     "'NotIn'"))
        elif e.operator in ("Exists", "DoesNotExist") and e.values:
            errors.append(FieldError(f"{where}.values", "Forbidden",
                                     detail="may not be specified when `operator` is "
                                     "'Exists' or 'DoesNotExist'"))
        elif e.operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errors.append(FieldError(f"{where}.operator", "Invalid value", e.operator,
                                     "not a valid selector operator"))
        errors += [FieldError(f"{where}.key", "Invalid value", e.key, m)
                   for m in validation.label_key(e.key)]
        for at, value in enumerate(e.values):
            errors += [FieldError(f"{where}.values[{at}]", "Invalid value", value, m)
                       for m in validation.label_value(value)]
    return errors


def port_errors(port: NetworkPolicyPort, path: str) -> list[FieldError]:
    errors = []
    if port.protocol not in PROTOCOLS:
        errors.append(FieldError(f"{path}.protocol", "Unsupported value", port.protocol,
                                 'supported values: "TCP", "UDP", "SCTP"'))
    if isinstance(port.port, int):
        if not 1 <= port.port <= 65535:
            errors.append(FieldError(f"{path}.port", "Invalid value", port.port, PORT_RANGE))
        if port.end_port is not None:
            if port.end_port < port.port:
                errors.append(FieldError(f"{path}.endPort", "Invalid value", port.end_port,
                                         "must be greater than or equal to `port`"))
            if not 1 <= port.end_port <= 65535:
                errors.append(FieldError(f"{path}.endPort", "Invalid value", port.end_port,
                                         PORT_RANGE))
    elif isinstance(port.port, str):
        if port.end_port is not None:
            errors.append(FieldError(f"{path}.endPort", "Invalid value", port.end_port,
                                     "may not be specified when `port` is non-numeric"))
        errors += [FieldError(f"{path}.port", "Invalid value", port.port, m)
                   for m in validation.port_name(port.port)]
    elif port.end_port is not None:
        errors.append(FieldError(f"{path}.endPort", "Invalid value", port.end_port,
                                 "may not be specified when `port` is not specified"))
    return errors


def peer_errors(peer: NetworkPolicyPeer, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    count = 0
    if peer.pod_selector is not None:
        count += 1
        errors += selector_errors(peer.pod_selector, f"{path}.podSelector")
    if peer.namespace_selector is not None:
        count += 1
        errors += selector_errors(peer.namespace_selector, f"{path}.namespaceSelector")
    if peer.ip_block is not None:
        count += 1
        errors += ip_block_errors(peer.ip_block, f"{path}.ipBlock")
    if count == 0:
        errors.append(FieldError(path, "Required value", detail="must specify a peer"))
    elif count > 1 and peer.ip_block is not None:
        errors.append(FieldError(path, "Forbidden",
                                 detail="may not specify both ipBlock and another peer"))
    return errors


def _cidr(text: str, path: str) -> tuple[IPv4Network | None, list[FieldError]]:
    """IsValidCIDRForLegacyField (IPv4 here: the lab has no IPv6)."""
    try:
        return IPv4Network(text, strict=False), []
    except ValueError:
        return None, [FieldError(path, "Invalid value", text, validation.CIDR_MESSAGE)]


def ip_block_errors(block, path: str) -> list[FieldError]:
    if not block.cidr:
        return [FieldError(f"{path}.cidr", "Required value")]
    network, errors = _cidr(block.cidr, f"{path}.cidr")
    if network is None:
        return errors
    for index, text in enumerate(block.except_):
        where = f"{path}.except[{index}]"
        cut, problems = _cidr(text, where)
        errors += problems
        if cut is not None and (cut.network_address not in network
                                or network.prefixlen >= cut.prefixlen):
            errors.append(FieldError(where, "Invalid value", text,
                                     "must be a strict subset of `cidr`"))
    return errors
