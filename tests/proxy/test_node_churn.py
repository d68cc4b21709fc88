"""Nodes joining and leaving, pods on them or not: every node's routes, rules and IPVS
tables are what a lab built afresh from the same objects has, for every CNI and proxy mode
(an IPVS proxier lists the node's addresses at each sync, so a NodePort also listens on what
a CNI or flanneld gave the node after the proxier started)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.restore import (
    ClusterSettings,
    nodes_with_bridge,
    restore_cluster,
    saved_objects,
)
from playground.cluster.service import ServicePort

WEB = [Container("web", ports=[ContainerPort(8080, "http")])]
DATAPLANES = [("bridge", "iptables"), ("bridge", "ipvs"), ("ptp", "ipvs"), ("vxlan", "iptables"),
              ("vxlan", "ipvs"), ("cilium", "iptables")]


async def served_lab(cni: str, mode: str) -> Cluster:
    cluster = Cluster(cni=cni, proxy_mode=mode)
    await cluster.start()
    await cluster.add_node("cp", control_plane=True)
    await cluster.add_node("w0")
    await cluster.add_pod("web", WEB, labels={"app": "web"}, node_name="w0")
    await cluster.add_service("np", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, type="NodePort")
    await cluster.add_service("lb", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, type="LoadBalancer",
                              external_traffic_policy="Local")
    return cluster


def node_views(cluster: Cluster) -> dict[str, str]:
    cluster.wake_all()
    seen = {}
    for node in cluster.nodes():
        ns = cluster.node_namespace(node.name)
        seen[f"{node.name}: ip route"] = ns.ip_route()
        seen[f"{node.name}: iptables-save"] = ns.netfilter.save(["filter", "nat"], when="T")
        if ns.ipvs is not None:
            seen[f"{node.name}: ipvsadm"] = ns.ipvs.listing()
    return seen


async def rebuilt_views(cluster: Cluster) -> dict[str, str]:
    fresh = await restore_cluster(ClusterSettings(cni=cluster.cni.name,
                                                  proxy_mode=cluster.proxy_mode,
                                                  bridges=nodes_with_bridge(cluster)),
                                  saved_objects(cluster))
    try:
        return node_views(fresh)
    finally:
        await fresh.stop()


async def test_a_node_joining_under_flannel_serves_the_node_port_on_flannel_1():
    cluster = await served_lab("vxlan", "ipvs")
    try:
        await cluster.add_node("a")
        ns = cluster.node_namespace("a")
        tunnel = ns.primary_address("flannel.1")
        port = cluster.find_service("np").spec.ports[0].node_port
        assert f"TCP  {tunnel}:{port} rr" in ns.ipvs.listing()
        assert node_views(cluster) == await rebuilt_views(cluster)
    finally:
        await cluster.stop()


CHURN = st.lists(st.tuples(st.sampled_from(["add", "add with a pod", "remove"]),
                           st.sampled_from(["a", "b", "c"])), max_size=8)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(dataplane=st.sampled_from(DATAPLANES), churn=CHURN)
def test_any_node_churn_leaves_every_node_as_a_fresh_lab_has_it(dataplane, churn):
    asyncio.run(churn_then_compare(*dataplane, churn))


async def churn_then_compare(cni: str, mode: str, churn: list[tuple[str, str]]) -> None:
    cluster = await served_lab(cni, mode)
    try:
        for step, (op, name) in enumerate(churn):
            present = cluster.api.peek("Node", "", name) is not None
            if op.startswith("add") and not present:
                await cluster.add_node(name)
                if op == "add with a pod":
                    await cluster.add_pod(f"p{step}", WEB, labels={"app": "web"},
                                          node_name=name)
            elif op == "remove" and present:
                await cluster.remove_node(name)
        assert len(cluster.api.events) == 0, cluster.api.events.lines()
        assert node_views(cluster) == await rebuilt_views(cluster)
    finally:
        await cluster.stop()
