"""`kubectl describe networkpolicy`, laid out as kubectl's describeNetworkPolicySpec writes
it (kubectl describe.go), then what the lab adds: the pods it selects and enforcement."""

from __future__ import annotations

from playground.cluster.netpol.evaluate import selected_pods
from playground.cluster.netpol.model import INGRESS, NetworkPolicy
from playground.cluster.netpol.view import PolicyView


def describe(policy: NetworkPolicy, view: PolicyView, status: str, cni: str) -> str:
    meta = policy.metadata
    labels = "\n".join(f"{k}={v}" for k, v in sorted(meta.labels.items())) or "<none>"
    lines = [f"Name:         {meta.name}", f"Namespace:    {meta.namespace}",
             f"Labels:       {labels}", "Annotations:  <none>" if not meta.annotations else
             "Annotations:  " + ", ".join(f"{k}: {v}" for k, v in meta.annotations.items()),
             "Spec:"]
    spec = policy.spec
    selector = spec.pod_selector.text() if not spec.pod_selector.empty else \
        "<none> (Allowing the specific traffic to all pods in this namespace)"
    lines.append(f"  PodSelector:     {selector}")
    for direction in ("Ingress", "Egress"):
        word = direction.lower()
        if policy.applies_to(direction):
            lines.append(f"  Allowing {word} traffic:")
            lines += _rules(policy, direction)
        else:
            lines.append(f"  Not affecting {word} traffic")
    lines.append(f"  Policy Types: {', '.join(spec.policy_types)}")
    pods = [pod.name for pod in selected_pods(view, policy)]
    lines.append(f"Selected pods: {', '.join(pods) or '<none>'}")
    if status:
        lines.append(f"Enforcement:  {status} (the {cni} CNI enforces no NetworkPolicy)")
    return "\n".join(lines) + "\n"


def _rules(policy: NetworkPolicy, direction: str) -> list[str]:
    rules = policy.rules(direction)
    word, towards = ("ingress", "From") if direction == INGRESS else ("egress", "To")
    pad = "    "
    if not rules:
        return [f"{pad}<none> (Selected pods are isolated for {word} connectivity)"]
    lines: list[str] = []
    for index, rule in enumerate(rules):
        if not rule.ports:
            lines.append(f"{pad}To Port: <any> (traffic allowed to all ports)")
        for port in rule.ports:
            number = "<any>" if port.port is None else str(port.port)
            if port.end_port is not None:
                number += f"-{port.end_port}"
            lines.append(f"{pad}To Port: {number}/{port.protocol}")
        if not rule.peers:
            restricted = "source" if direction == INGRESS else "destination"
            lines.append(f"{pad}{towards}: <any> (traffic not restricted by {restricted})")
        for peer in rule.peers:
            lines.append(f"{pad}{towards}:")
            if peer.namespace_selector is not None:
                lines.append(f"{pad}  NamespaceSelector: {peer.namespace_selector.text()}")
            if peer.pod_selector is not None:
                lines.append(f"{pad}  PodSelector: {peer.pod_selector.text()}")
            if peer.ip_block is not None:
                lines += [f"{pad}  IPBlock:", f"{pad}    CIDR: {peer.ip_block.cidr}",
                          f"{pad}    Except: {', '.join(peer.ip_block.except_)}"]
        if index != len(rules) - 1:
            lines.append(f"{pad}----------")
    return lines
