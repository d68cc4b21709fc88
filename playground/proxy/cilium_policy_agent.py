"""The Cilium agent's policy half on one node: identities for every pod's labels, the
ipcache of the whole cluster, and each local endpoint's policy map, recomputed as pods,
their labels, namespaces, nodes or NetworkPolicies change (the agent regenerates its
endpoints on any of these)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.netpol.evaluate import decide
from playground.cluster.netpol.model import EGRESS
from playground.cluster.netpol.view import Peer, PolicyView
from playground.cluster.security_identity import IdentityAllocator, pod_labels
from playground.net.bpf.cilium import router_ip
from playground.net.bpf.ipcache import HOST, REMOTE_NODE, RESERVED
from playground.net.bpf.tabwriter import tabwrite
from playground.net.network import Network
from playground.proxy.cilium_policy import EndpointPolicy, Identities, endpoint_policy
from playground.proxy.cilium_rules import policy_get

KINDS = ("Pod", "Namespace", "NetworkPolicy", "Node")


@dataclass
class EndpointState:
    pod: str  # namespace/name
    labels: tuple[str, ...]
    identity: int
    policy: EndpointPolicy


def allocator_of(plugin) -> IdentityAllocator:
    """The cluster's identities, one store for every node's agent (the CRDs)."""
    if plugin.identities is None:
        plugin.identities = IdentityAllocator()
    return plugin.identities


class CiliumPolicyAgent(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, ns, plugin) -> None:
        super().__init__()
        self.api, self.network, self.node, self.ns = api, network, node, ns
        self.datapath = plugin.datapath(network, ns)
        self.allocator = allocator_of(plugin)
        self.name = f"cilium-agent/{node}/policy"
        self.endpoints: dict[int, EndpointState] = {}
        self.policies: list = []  # the NetworkPolicies as the agent last imported them
        self.revision = 1  # the policy repository's, bumped by every change of its rules
        self._imported: tuple = ()
        plugin.agents[ns.name] = self
        self.datapath.enforcement.explain = self.explain

    def start(self) -> None:
        for kind in KINDS:
            self.follow(self.api.watch(kind), self.on_event)

    def on_event(self, event: Event) -> None:
        self.enqueue(("all",))

    def sync(self, _key: str) -> None:
        view = PolicyView.from_api(self.api)
        imported = tuple((p.key, p.metadata.resource_version) for p in view.policies)
        if imported != self._imported:
            self.revision += 1 if self._imported or imported else 0
            self._imported = imported
        self.policies = list(view.policies)
        pods = {}
        by_identity: dict[int, list[Peer]] = {}
        for pod in self.api.list("Pod"):
            if not pod.status.pod_ip or pod.spec.host_network or pod.terminating:
                continue
            namespace = pod.metadata.namespace
            labels = pod_labels(pod.metadata.labels, namespace, view.namespace_labels(namespace),
                                "default")
            number = self.allocator.allocate(labels)
            peer = Peer.of_pod(pod)
            pods[pod.status.pod_ip] = (pod, labels, number, peer)
            by_identity.setdefault(number, []).append(peer)
        self.allocator.release_unused(set(by_identity))
        identities = Identities(self.allocator, by_identity)
        self.endpoints = {}
        enforcement = self.datapath.enforcement
        for endpoint in self.datapath.endpoints():
            found = pods.get(str(endpoint.ip))
            if found is None:
                continue
            pod, labels, number, peer = found
            self.datapath.set_identity(endpoint.ip, number)
            computed = endpoint_policy(view, peer, identities)
            policy_map = enforcement.maps.get(endpoint.id)
            if policy_map is not None:
                policy_map.replace(computed.entries)
                policy_map.verdict_notify = frozenset(
                    direction for direction, chosen in (("Ingress", computed.ingress),
                                                        ("Egress", computed.egress)) if chosen)
            self.endpoints[endpoint.id] = EndpointState(pod.key, labels, number, computed)
        self._ipcache(pods)

    def _ipcache(self, pods: dict) -> None:
        """Every pod, every node (this one is the host, the others remote nodes), and the
        prefixes policies name, each with its identity."""
        cache = self.datapath.enforcement.ipcache
        cache.entries = {}
        for prefix, number in self.allocator.cidrs.items():
            cache.upsert(prefix, number)
        for node in self.api.list("Node"):
            identity = HOST if node.name == self.node else REMOTE_NODE
            if node.status.internal_ip:
                cache.upsert(f"{node.status.internal_ip}/32", identity)
            if node.spec.pod_cidr:
                cache.upsert(f"{router_ip(IPv4Network(node.spec.pod_cidr))}/32", identity)
        for ip, (pod, _labels, number, _peer) in pods.items():
            remote = pod.spec.node_name != self.node and self.datapath.tunnel
            endpoint = IPv4Address(pod.status.host_ip) if remote and pod.status.host_ip else None
            cache.upsert(f"{ip}/32", number, endpoint)

    def explain(self, direction: str, local: IPv4Address, remote: IPv4Address, peer: int,
                protocol: str, port: int, allowed: bool) -> str:
        """The policies behind a verdict, in Kubernetes' terms (decide()), and where
        Cilium's reading differs."""
        view = PolicyView.from_api(self.api)
        if not view.policies:
            return ""
        subject, other = view.peer_at(local), view.peer_at(remote)
        if direction == EGRESS:
            verdict = decide(view, subject, other, protocol, port).egress
        else:
            verdict = decide(view, other, subject, protocol, port).ingress
        if verdict.allowed == allowed:  # an allow's entry already names its rule
            return verdict.why if verdict.selecting and not allowed else ""
        word = "allows" if allowed else "denies"
        return f"Kubernetes' reading: {verdict.why}; Cilium {word} it by identity {peer}"

    def labels_of(self, identity: int) -> list[str]:
        return self.allocator.labels_of(identity)

    # the agent's CLI

    def endpoint_list(self) -> str:
        """`cilium endpoint list`."""
        rows = [["ENDPOINT", "POLICY (ingress)", "POLICY (egress)", "IDENTITY",
                 "LABELS (source:key[=value])", "IPv6", "IPv4", "STATUS"],
                ["", "ENFORCEMENT", "ENFORCEMENT", "", "", "", "", ""]]
        for endpoint in self.datapath.endpoints():
            state = self.endpoints.get(endpoint.id)
            labels = list(state.labels) if state else [RESERVED[endpoint.identity]]
            ingress = "Enabled" if state and state.policy.ingress else "Disabled"
            egress = "Enabled" if state and state.policy.egress else "Disabled"
            rows.append([str(endpoint.id), ingress, egress, str(endpoint.identity), labels[0],
                         "", str(endpoint.ip), "ready"])
            rows += [["", "", "", "", label, "", "", ""] for label in labels[1:]]
        return tabwrite(rows)

    def identity_list(self) -> str:
        """`cilium identity list`: reserved, then cluster, then local CIDR identities."""
        rows = [["ID", "LABELS"]]
        for number in sorted(self.allocator.labels):
            if number == 0:
                continue
            labels = self.allocator.labels_of(number)
            rows.append([str(number), labels[0]])
            rows += [["", label] for label in labels[1:]]
        return tabwrite(rows, last_padded=False)

    def policy_map_listing(self, endpoint_id: int) -> str | None:
        policy_map = self.datapath.enforcement.maps.get(endpoint_id)
        return None if policy_map is None else policy_map.listing(self.labels_of)

    def policy_maps(self) -> list[tuple[int, str]]:
        return [(number, policy_map.path) for number, policy_map in
                sorted(self.datapath.enforcement.maps.items())]

    def policy_get(self) -> str:
        """`cilium policy get`."""
        return policy_get(self.policies, self.revision)
