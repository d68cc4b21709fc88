"""The e2e tests' model as a lab (test/e2e/network/netpol/model.go): namespaces x, y, z with
pods a, b, c labelled pod=NAME, one container per port and protocol whose port is named
serve-PORT-PROTOCOL; and their Reachability helpers (reachability.go)."""

from __future__ import annotations

from playground.cluster.lab import build_default_lab
from playground.cluster.manifest_apply import ManifestDoc
from playground.cluster.netpol.parse import policy_from_doc
from playground.cluster.netpol.reach import matrix, truth_table
from playground.cluster.netpol.view import PolicyView
from playground.cluster.objects import Container, ContainerPort

NAMESPACES = ("x", "y", "z")
NAMES = ("a", "b", "c")
PODS = tuple(f"{ns}/{name}" for ns in NAMESPACES for name in NAMES)
PORTS = (80, 81)
PROTOCOLS = ("TCP", "UDP", "SCTP")
META_NAME = "kubernetes.io/metadata.name"


async def model_lab():
    lab = await build_default_lab()
    for ns in NAMESPACES:
        await lab.add_namespace(ns)
        for name in NAMES:
            containers = [Container(f"cont-{port}-{proto.lower()}", "agnhost",
                                    [ContainerPort(port, f"serve-{port}-{proto.lower()}", proto)])
                          for port in PORTS for proto in PROTOCOLS]
            await lab.add_pod(name, containers, namespace=ns, labels={"pod": name})
    return lab


async def reset(lab) -> None:
    """Back to the model: no policies, the pods' and namespaces' own labels."""
    for policy in lab.network_policies():
        await lab.delete_network_policy(policy.name, policy.metadata.namespace)
    for ns in NAMESPACES:
        await lab.add_namespace(ns, {})
        for name in NAMES:
            lab.api.change("Pod", ns, name,
                           lambda pod, name=name: setattr(pod.metadata, "labels",
                                                          {"pod": name}))


def policy(name, selector=None, ingress=None, egress=None, types=None) -> dict:
    """A manifest as GenNetworkPolicyWithNameAndPodSelector with SetSpec*Rules makes it:
    giving rules (even none) also names that policyType."""
    spec: dict = {"podSelector": selector if selector is not None else {}}
    kinds = []
    if ingress is not None:
        spec["ingress"], kinds = ingress, kinds + ["Ingress"]
    if egress is not None:
        spec["egress"], kinds = egress, kinds + ["Egress"]
    spec["policyTypes"] = types or kinds
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def pod_label(name):
    return {"matchLabels": {"pod": name}}


def ns_label(ns):
    return {"matchLabels": {META_NAME: ns}}


async def create(lab, doc: dict, ns: str) -> None:
    """CreatePolicy / UpdatePolicy: through the manifest reader, validation and the store."""
    name = doc["metadata"]["name"]
    await lab.add_network_policy(policy_from_doc(ManifestDoc(f"{ns}/{name}", doc), name, ns))


class Reachability:
    """Every pod to every pod, allowed unless a case says otherwise (NewReachability(.., true));
    a peer is "" (any pod), "x" (a namespace) or "x/a"."""

    def __init__(self) -> None:
        self.cells = {(src, dst): True for src in PODS for dst in PODS}

    @staticmethod
    def _is(peer: str, pod: str) -> bool:
        return not peer or peer == pod or ("/" not in peer and pod.startswith(peer + "/"))

    def peer(self, src: str, dst: str, allowed: bool) -> Reachability:
        for key in self.cells:
            if self._is(src, key[0]) and self._is(dst, key[1]):
                self.cells[key] = allowed
        return self

    def expect(self, src: str, dst: str, allowed: bool) -> Reachability:
        self.cells[(src, dst)] = allowed
        return self

    def all_ingress(self, pod: str, allowed: bool) -> Reachability:
        return self.peer("", pod, allowed)

    def all_egress(self, pod: str, allowed: bool) -> Reachability:
        return self.peer(pod, "", allowed)


def check(lab, protocol: str, port: int, expected: Reachability) -> None:
    """The lab's matrix, through decide(), against the whole expected table; loopback
    cells are left out as the e2e tests leave them out (ignoreLoopback)."""
    found = matrix(PolicyView.from_api(lab.api), protocol, port, list(NAMESPACES))
    wrong = {key for key, allowed in expected.cells.items()
             if key[0] != key[1] and found.allowed(*key) != allowed}
    assert not wrong, (f"{protocol}/{port}: {len(wrong)} cells differ (starred):\n"
                       + truth_table(found, wrong))
