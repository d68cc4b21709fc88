"""decide(): may this connection pass, by Kubernetes' NetworkPolicy semantics, and why.

A pod is isolated for a direction when a policy in its namespace selects it and has that
policyType; an isolated pod's traffic passes when some rule of some selecting policy allows
it; a connection needs egress at the source and ingress at the destination. Ports are the
destination's after DNAT; a named port resolves against the destination pod's containers
(name, protocol and number, as kube-network-policies v0.x evaluatePorts does). An ipBlock
matches the peer's address whether or not a pod has it (kube-network-policies' reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.netpol.model import (
    EGRESS,
    INGRESS,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    rule_word,
)
from playground.cluster.netpol.view import Peer, PolicyView


@dataclass(frozen=True)
class AllowedBy:
    policy: str            # namespace/name ("" for the pod's own node, always allowed)
    rule: str              # "ingress[0].from[1]", or "ingress[0]" for a rule with no peers
    port: str | None       # "ports[0]", or None for a rule with no ports

    def __str__(self) -> str:
        """`ns/name ingress[0].from[1] ports[0]`; the own-node allowance has no policy."""
        if not self.policy:
            return self.rule
        return f"{self.policy} {self.rule}" + (f" {self.port}" if self.port else "")


@dataclass(frozen=True)
class DirectionVerdict:
    direction: str                  # Ingress or Egress
    selecting: tuple[str, ...]      # the policies that isolate the pod for it; () : none
    allowed_by: AllowedBy | None    # the first rule that allows; None when denied or open
    why: str

    @property
    def allowed(self) -> bool:
        return not self.selecting or self.allowed_by is not None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    egress: DirectionVerdict    # at the source
    ingress: DirectionVerdict   # at the destination

    @property
    def why(self) -> str:
        """The direction that denied, or both directions' reasons for an allow."""
        for verdict in (self.egress, self.ingress):
            if not verdict.allowed:
                return verdict.why
        return f"{self.egress.why}; {self.ingress.why}"


def decide(view: PolicyView, src: Peer, dst: Peer, protocol: str, port: int) -> Decision:
    protocol = protocol.upper()
    egress = _direction(view, EGRESS, src, dst, dst, protocol, port)
    ingress = _direction(view, INGRESS, dst, src, dst, protocol, port)
    return Decision(egress.allowed and ingress.allowed, egress, ingress)


def selects(policy: NetworkPolicy, pod: Peer) -> bool:
    """Does the policy's spec.podSelector pick this pod (in its own namespace)?"""
    return pod.is_pod and pod.namespace == policy.metadata.namespace and \
        policy.spec.pod_selector.matches(pod.label_map)


def selecting(view: PolicyView, pod: Peer, direction: str) -> list[NetworkPolicy]:
    return [p for p in view.policies if p.applies_to(direction) and selects(p, pod)]


def selected_pods(view: PolicyView, policy: NetworkPolicy) -> list[Peer]:
    return [pod for pod in view.pods if selects(policy, pod)]


def peer_matches(view: PolicyView, policy: NetworkPolicy, peer: NetworkPolicyPeer,
                 other: Peer) -> bool:
    return _peer_miss(view, policy, peer, other) is None


def pods_of_peer(view: PolicyView, policy: NetworkPolicy,
                 peer: NetworkPolicyPeer) -> list[Peer]:
    """The pods a peer's selectors pick (an ipBlock peer: those whose address it holds)."""
    return [pod for pod in view.pods if peer_matches(view, policy, peer, pod)]


def _direction(view: PolicyView, direction: str, subject: Peer, other: Peer, dst: Peer,
               protocol: str, port: int) -> DirectionVerdict:
    word = direction.lower()
    if not subject.is_pod:
        end = "source" if direction == EGRESS else "destination"
        return DirectionVerdict(direction, (), None,
                                f"the {end} {subject} is no pod: no {word} policy applies")
    policies = selecting(view, subject, direction)
    names = tuple(p.key for p in policies)
    if not policies:
        return DirectionVerdict(direction, (), None,
                                f"no policy selects {subject} for {word}: not isolated")
    if not other.is_pod and other.node and other.node == subject.node:
        # the API: traffic to and from the node where a pod runs is always allowed
        return DirectionVerdict(direction, names, AllowedBy("", "own node", None),
                                f"{word} allowed: {other} is the node {subject} runs on "
                                "(always allowed)")
    misses: list[tuple[int, str]] = []
    for policy in policies:
        found = _allowing_rule(view, policy, direction, other, dst, protocol, port, misses)
        if found is not None:
            return DirectionVerdict(direction, names, found, f"{word} allowed by {found}")
    closest = max(misses, key=lambda m: m[0])[1] if misses else ""
    towards = "from" if direction == INGRESS else "to"
    why = (f"{word} denied: {subject} is isolated by {', '.join(names)} and no rule allows "
           f"{towards} {other} on {protocol} {port}" + (f" ({closest})" if closest else ""))
    return DirectionVerdict(direction, names, None, why)


def _allowing_rule(view: PolicyView, policy: NetworkPolicy, direction: str, other: Peer,
                   dst: Peer, protocol: str, port: int,
                   misses: list[tuple[int, str]]) -> AllowedBy | None:
    field_name, peers_name = rule_word(direction)
    rules = policy.rules(direction)
    if not rules:
        misses.append((0, f"{policy.key} has no {field_name} rules"))
    for index, rule in enumerate(rules):
        path = f"{field_name}[{index}]"
        port_path, port_miss = _port_match(rule, dst, protocol, port)
        peer_path, peer_miss = _peer_match(view, policy, rule, other, direction)
        if port_miss is None and peer_miss is None:
            rule_path = f"{path}.{peers_name}[{peer_path}]" if peer_path is not None else path
            return AllowedBy(policy.key, rule_path, port_path)
        # a rule whose peers match but not its ports is the nearer miss
        closeness = 2 if peer_miss is None else 1 if port_miss is None else 0
        said = peer_miss if peer_miss is not None else port_miss
        misses.append((closeness, f"{policy.key} {path} {said}"))
    return None


def _port_match(rule: NetworkPolicyRule, dst: Peer, protocol: str,
                port: int) -> tuple[str | None, str | None]:
    """(the ports[i] that matched or None for no ports, None) or (None, what missed)."""
    if not rule.ports:
        return None, None
    for index, allowed in enumerate(rule.ports):
        if port_allows(allowed, dst, protocol, port):
            return f"ports[{index}]", None
    shown = ", ".join(port_text(p) for p in rule.ports)
    return None, f"allows {shown} only; the connection is to {protocol} {port}"


def port_allows(allowed: NetworkPolicyPort, dst: Peer, protocol: str, port: int) -> bool:
    if allowed.protocol != protocol:
        return False
    if allowed.port is None:
        return True
    if isinstance(allowed.port, str):
        return dst.named_port(allowed.port, protocol) == port
    top = allowed.end_port if allowed.end_port is not None else allowed.port
    return allowed.port <= port <= top


def port_text(allowed: NetworkPolicyPort) -> str:
    if allowed.port is None:
        return f"every {allowed.protocol} port"
    if allowed.end_port is not None:
        return f"{allowed.protocol} {allowed.port}-{allowed.end_port}"
    return f"{allowed.protocol} {allowed.port}"


def _peer_match(view: PolicyView, policy: NetworkPolicy, rule: NetworkPolicyRule, other: Peer,
                direction: str) -> tuple[int | None, str | None]:
    """(index of the matching peer or None for no peers, None) or (None, the first miss)."""
    if not rule.peers:
        return None, None
    first = None
    for index, peer in enumerate(rule.peers):
        miss = _peer_miss(view, policy, peer, other)
        if miss is None:
            return index, None
        first = first or miss
    towards = "from" if direction == INGRESS else "to"
    end = "source" if direction == INGRESS else "destination"
    return None, f"allows {towards} {first[0]}; the {end} {first[1]}"


def _peer_miss(view: PolicyView, policy: NetworkPolicy, peer: NetworkPolicyPeer,
               other: Peer) -> tuple[str, str] | None:
    """None when the peer matches `other`, else (what it allows, what `other` is)."""
    if peer.ip_block is not None:
        block = peer.ip_block
        shown = block.cidr + (f" except {', '.join(block.except_)}" if block.except_ else "")
        address = IPv4Address(other.ip) if other.ip else None
        if address is None or address not in IPv4Network(block.cidr, strict=False):
            return shown, f"is {other.ip or 'no address'}"
        for cut in block.except_:
            if address in IPv4Network(cut, strict=False):
                return shown, f"is {other.ip}, in the exception {cut}"
        return None
    own = policy.metadata.namespace
    wanted = _peer_text(peer, own)
    if not other.is_pod:
        return wanted, f"{other.ip} is no pod"
    if peer.namespace_selector is None:
        if other.namespace != own:
            return wanted, f"is in namespace {other.namespace}"
    else:
        labels = view.namespace_labels(other.namespace)
        if not peer.namespace_selector.matches(labels):
            need, has = peer.namespace_selector.misses(labels)
            return wanted, f"is in namespace {other.namespace}, which has {has}"
    if peer.pod_selector is not None and not peer.pod_selector.matches(other.label_map):
        need, has = peer.pod_selector.misses(other.label_map)
        return wanted, f"has {has}"
    return None


def _peer_text(peer: NetworkPolicyPeer, own: str) -> str:
    pods = peer.pod_selector.text() if peer.pod_selector and not peer.pod_selector.empty \
        else "every pod"
    if peer.namespace_selector is None:
        return pods if pods != "every pod" else f"every pod in namespace {own}"
    spaces = "every namespace" if peer.namespace_selector.empty else \
        f"namespaces {peer.namespace_selector.text()}"
    return f"{pods} in {spaces}"
