"""kube-proxy's tables for a small fixed cluster, compared line by line with files written
from ../shared/reference/kube-proxy.md (chain names, comments, marks, probabilities)."""

from pathlib import Path

import pytest

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

GOLDEN = Path(__file__).parent / "golden"


async def small_cluster() -> Cluster:
    cluster = Cluster(seed=1)
    await cluster.start()
    await cluster.add_node("n1", internal_ip="172.18.0.2", pod_cidr="10.244.1.0/24")
    await cluster.add_node("n2", internal_ip="172.18.0.3", pod_cidr="10.244.2.0/24")
    web = [Container("web", ports=[ContainerPort(8080, "http")])]
    for name, node in (("web-a", "n1"), ("web-b", "n2"), ("web-c", "n2")):
        await cluster.add_pod(name, web, labels={"app": "web"}, node_name=node)
    await cluster.add_service("web", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, cluster_ip="10.96.100.10")
    await cluster.add_service("edge", [ServicePort(80, "http", name="http", node_port=30080)],
                              selector={"app": "web"}, cluster_ip="10.96.100.20",
                              type="NodePort", external_traffic_policy="Local")
    await cluster.add_service("dns", [ServicePort(53, 53, "UDP", "dns")],
                              selector={"app": "none"}, cluster_ip="10.96.100.30")
    return cluster


@pytest.mark.parametrize("node", ["n1", "n2"])
async def test_iptables_save_matches_the_golden_file(node):
    cluster = await small_cluster()
    saved = cluster.node_namespace(node).netfilter.save(["filter", "nat"], when="GOLDEN")
    await cluster.stop()
    expected = (GOLDEN / f"{node}.iptables").read_text()
    assert saved.splitlines() == expected.splitlines()
