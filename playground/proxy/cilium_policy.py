"""NetworkPolicies as Cilium's agent turns them into one endpoint's policy map: each rule's
peers become the identities whose labels they select (pkg/policy, k8s NetworkPolicy
parsing), its ports become (protocol, port prefix) keys, and an endpoint no policy selects
for a direction gets the allow-all entry of that direction.

Where Cilium reads NetworkPolicy its own way, this follows Cilium: an ipBlock selects CIDR
identities (addresses outside every endpoint), never a pod, whose /32 in the ipcache has
its own identity; the host (identity 1) may always reach its endpoints (allow-localhost).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from playground.cluster.netpol.evaluate import selecting
from playground.cluster.netpol.model import (
    EGRESS,
    INGRESS,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    rule_word,
)
from playground.cluster.netpol.view import Peer, PolicyView
from playground.cluster.security_identity import IdentityAllocator, split
from playground.net.bpf.ipcache import HOST, WORLD
from playground.net.bpf.policy import PROTOCOLS, PolicyEntry, PolicyKey, port_keys


@dataclass
class EndpointPolicy:
    """What the agent computed for one endpoint: its map and the policies behind it."""

    entries: dict[PolicyKey, PolicyEntry]
    ingress: tuple[str, ...]  # the policies that select it for ingress (enforcement on)
    egress: tuple[str, ...]


class Identities:
    """The cluster's identities as one policy computation sees them: labels and the pods
    that have each."""

    def __init__(self, allocator: IdentityAllocator, pods: dict[int, list[Peer]]) -> None:
        self.allocator = allocator
        self.pods = pods

    def selected(self, policy: NetworkPolicy, peer: NetworkPolicyPeer) -> list[int]:
        if peer.ip_block is not None:
            return self._cidr(peer)
        return sorted(number for number in self.pods
                      if peer_selects(policy, peer, tuple(self.allocator.labels_of(number))))

    def _cidr(self, peer: NetworkPolicyPeer) -> list[int]:
        block = IPv4Network(peer.ip_block.cidr, strict=False)
        cuts = [IPv4Network(cut, strict=False) for cut in peer.ip_block.except_]
        for prefix in (block, *cuts):
            self.allocator.cidr(prefix)
        chosen = {self.allocator.cidr(prefix) for prefix in self.allocator.cidrs
                  if prefix.subnet_of(block) and not any(prefix.subnet_of(cut) for cut in cuts)}
        if block.prefixlen == 0:
            chosen.add(WORLD)
        return sorted(chosen)


def peer_selects(policy: NetworkPolicy, peer: NetworkPolicyPeer, labels: tuple[str, ...]
                 ) -> bool:
    """A peer's selectors against an identity's labels: the namespace by its name (no
    namespaceSelector) or its labels, the pod by its identity-relevant labels."""
    pod_labels, namespace, namespace_labels = split(labels)
    if namespace is None:
        return False  # a reserved or CIDR identity: no pod selector picks it
    if peer.namespace_selector is None:
        if namespace != policy.metadata.namespace:
            return False
    elif not peer.namespace_selector.matches(namespace_labels):
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(pod_labels)


def endpoint_policy(view: PolicyView, subject: Peer, identities: Identities) -> EndpointPolicy:
    entries: dict[PolicyKey, PolicyEntry] = {}
    chosen = {}
    for direction in (INGRESS, EGRESS):
        policies = selecting(view, subject, direction)
        chosen[direction] = tuple(policy.key for policy in policies)
        if not policies:
            _add(entries, PolicyKey(0, direction), f"no policy selects the endpoint for "
                 f"{direction.lower()}, so its enforcement is disabled")
            continue
        if direction == INGRESS:
            _add(entries, PolicyKey(HOST, INGRESS), "allow-localhost: the node itself")
        for policy in policies:
            _rules(entries, view, policy, direction, subject, identities)
    return EndpointPolicy(entries, chosen[INGRESS], chosen[EGRESS])


def _rules(entries, view: PolicyView, policy: NetworkPolicy, direction: str, subject: Peer,
           identities: Identities) -> None:
    field_name, peers_name = rule_word(direction)
    for index, rule in enumerate(policy.rules(direction)):
        path = f"{policy.key} {field_name}[{index}]"
        targets = [(f"{path}.{peers_name}[{number}]", identities.selected(policy, peer))
                   for number, peer in enumerate(rule.peers)] or [(path, [0])]
        for where, selected in targets:
            for identity in selected:
                if not rule.ports:
                    _add(entries, PolicyKey(identity, direction), where)
                    continue
                for number, port in enumerate(rule.ports):
                    for key in _port_keys(identity, direction, port, subject, identities):
                        _add(entries, key, f"{where} ports[{number}]")


def _port_keys(identity: int, direction: str, port: NetworkPolicyPort, subject: Peer,
               identities: Identities) -> list[PolicyKey]:
    proto = PROTOCOLS[port.protocol.lower()]
    if port.port is None:
        return port_keys(identity, direction, proto, 0, None)
    if isinstance(port.port, int):
        return port_keys(identity, direction, proto, port.port, port.end_port)
    # a named port: the endpoint's own for ingress, its peers' containers for egress
    owners = [subject] if direction == INGRESS else identities.pods.get(identity) if \
        identity else [pod for pods in identities.pods.values() for pod in pods]
    numbers = sorted({number for pod in owners or []
                      if (number := pod.named_port(port.port, port.protocol)) is not None})
    return [key for number in numbers for key in port_keys(identity, direction, proto,
                                                             number, None)]


def _add(entries: dict[PolicyKey, PolicyEntry], key: PolicyKey, why: str) -> None:
    entry = entries.setdefault(key, PolicyEntry())
    if why not in entry.derived_from:
        entry.derived_from += (why,)
