"""TestOverallNFTablesRules' Services and endpoints (kubernetes/kubernetes proxier_test.go at
81810de635aa13aa0a32992f6def3aa9d6025ebc) rebuilt as a lab, and the renaming that maps the
test's addresses onto the lab's.

The test's conventions become the lab's: pod network 10.0.0.0/8 -> the lab's cluster CIDR,
service CIDR 172.30.0.0/16 -> 10.96.0.0/12 (ClusterIP 172.30.0.4N -> 10.96.0.4N, given
explicitly), node IP 192.168.0.2 -> test-node's address, NodePort 300N -> 3000N (the lab's
range starts at 30000), each Service's endpoint IPs -> its pods' addresses, LoadBalancer IPs
-> the ones the lab's provider gave. An endpoint without nodeName in the test (not local)
is a pod on node2 here; 10.180.0.5 (nodeName test-node) is a pod on test-node. svc3 and svc5
share 10.180.0.3 in the test; a Service only selects pods of its own namespace, so each has
its own pod here, and the renaming is done per Service section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.proxy.nft_rules import hashed

EXPECTED = Path(__file__).parent / "golden" / "nft" / "overall.nft"
NODE = "test-node"


@dataclass
class Section:
    namespace: str
    service: str
    endpoints: list[tuple[str, str]]   # the test's endpoint IP, the node of the lab's pod
    spec: dict = field(default_factory=dict)
    node_port: int | None = None


SECTIONS = {
    "svc1": Section("ns1", "svc1", [("10.180.0.1", "node2")]),
    "svc2": Section("ns2", "svc2", [("10.180.0.2", "node2")], dict(
        type="LoadBalancer", external_traffic_policy="Local", external_ips=["192.168.99.22"]),
        3001),
    "svc3": Section("ns3", "svc3", [("10.180.0.3", "node2")], dict(type="NodePort"), 3003),
    # the test's svc4 is a NodePort Service without a nodePort, which its fake proxier allows
    # and no API server leaves so; what kube-proxy writes for it (no node port, an external
    # IP) is what it writes for a LoadBalancer with no node ports and no load balancer yet:
    # a class no provider serves keeps its status empty
    "svc4": Section("ns4", "svc4", [("10.180.0.4", "node2"), ("10.180.0.5", NODE)],
                    dict(type="LoadBalancer", external_ips=["192.168.99.33"],
                         allocate_load_balancer_node_ports=False,
                         load_balancer_class="example.com/unserved")),
    "svc5": Section("ns5", "svc5", [("10.180.0.3", "node2")], dict(
        type="LoadBalancer", load_balancer_source_ranges=["203.0.113.0/25"],
        session_affinity="ClientIP"), 3002),
    "svc6": Section("ns6", "svc6", []),
}
CLUSTER_IPS = {"svc1": "41", "svc2": "42", "svc3": "43", "svc4": "44", "svc5": "45",
               "svc6": "46"}


async def overall_lab(sections: list[str]) -> Cluster:
    cluster = Cluster(seed=1)
    await cluster.start()
    await cluster.add_node(NODE, internal_ip="172.18.0.2", pod_cidr="10.244.2.0/24")
    # node2's pods have the lower addresses, as 10.180.0.4 sorts before test-node's .5
    await cluster.add_node("node2", internal_ip="172.18.0.3", pod_cidr="10.244.1.0/24")
    web = [Container("web", ports=[ContainerPort(80, "p80")])]
    for name in sections:
        section = SECTIONS[name]
        await cluster.add_namespace(section.namespace)
        for index, (_, node) in enumerate(section.endpoints):
            await cluster.add_pod(f"{name}-ep{index}", web, namespace=section.namespace,
                                  labels={"app": name}, node_name=node)
        port = ServicePort(80, 80, name="p80",
                           node_port=30000 + section.node_port % 1000
                           if section.node_port else None)
        await cluster.add_service(section.service, [port], namespace=section.namespace,
                                  selector={"app": name},
                                  cluster_ip=f"10.96.0.{CLUSTER_IPS[name]}", **section.spec)
    await cluster.settle()
    return cluster


def expected_sections(path: Path = EXPECTED) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("# ") and " " not in line[2:]:
            current = sections.setdefault(line[2:], [])
        elif current is not None and line:
            current.append(line)
    return sections


HASHED_NAME = re.compile(r"\b(endpoint|affinity)-([A-Z2-7]{8})-(\S+)")


def check_hashes(lines: list[str]) -> None:
    """The test's endpoint and affinity names carry hashes of their own names; ours must
    give the same ones before any renaming changes the names."""
    for line in lines:
        for prefix, digest, rest in HASHED_NAME.findall(line):
            assert hashed(rest) == f"{digest}-{rest}", f"{prefix}-{digest}-{rest}"


def rename(lines: list[str], pairs: list[tuple[str, str]]) -> list[str]:
    """Replace whole addresses (and `proto . port` keys), then hash the renamed names again."""
    out = []
    for line in lines:
        for old, new in pairs:
            line = re.sub(rf"(?<![\d.]){re.escape(old)}(?![\d])", new, line)
        line = HASHED_NAME.sub(lambda m: f"{m[1]}-{hashed(m[3])}", line)
        out.append(line)
    return out


def renaming(cluster: Cluster, name: str) -> list[tuple[str, str]]:
    section = SECTIONS[name]
    service = cluster.find_service(section.service, section.namespace)
    pairs = [(f"172.30.0.{CLUSTER_IPS[name]}", service.spec.cluster_ip)]
    for index, (test_ip, _) in enumerate(section.endpoints):
        pod = cluster.find_pod(f"{name}-ep{index}", section.namespace)
        pairs.append((test_ip, pod.status.pod_ip))
    test_lb = {"svc2": "1.2.3.4", "svc5": "5.6.7.8"}.get(name)
    if test_lb is not None:
        pairs.append((test_lb, service.status.load_balancer_ips[0]))
    if section.node_port:
        pairs.append((f"tcp . {section.node_port}",
                      f"tcp . {30000 + section.node_port % 1000}"))
    return pairs


# the fake proxier's mark string is "0x4000"; NewProxier formats the same bit "%#08x"
BASE_RENAMING = [("172.30.0.0/16", "10.96.0.0/12"), ("10.0.0.0/8", "10.244.0.0/16"),
                 ("192.168.0.2", "172.18.0.2"), ("0x4000", "0x00004000")]

# objectOrder of helpers_test.go: higher sorts first
OBJECT_ORDER = {"table": 10, "chain": 9, "rule": 8, "set": 7, "map": 6, "element": 5}


def sort_transaction(lines: list[str]) -> list[str]:
    """sortNFTablesTransaction: by object type, then object name; rules keep their order,
    other lines of the same object sort by the whole line."""
    kept = [line for line in lines if line and not line.startswith("#")]

    def key(line: str):
        words = line.split(" ")
        kind = words[1]
        return (-OBJECT_ORDER.get(kind, 0), words[4], "" if kind == "rule" else line)
    return sorted(kept, key=key)
