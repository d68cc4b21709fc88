"""Nodes joining and leaving in any order: the cloud controller's public node IPs, the
gateway's NAT and the cloud load balancer's routes are what a lab built afresh from the same
objects has (issue 22: a name added after another was removed used to find its address still
on the gateway, fail, and leave the load balancer routing to removed nodes)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.cloud import GATEWAY_NAMESPACE, LB_NAMESPACE, LB_POOL
from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.restore import ClusterSettings, restore_cluster, saved_objects
from playground.cluster.service import ServicePort
from playground.registry import CNI_PLUGINS

WEB = [Container("web", ports=[ContainerPort(8080, "http")])]
NAMES = ["a", "b", "c", "d"]


async def small_lab(cni: str = "bridge") -> Cluster:
    """A control plane and a worker that stay, a pod on the worker, one load balancer of
    each traffic policy."""
    cluster = Cluster(cni=cni)
    await cluster.start()
    await cluster.add_node("cp", control_plane=True)
    await cluster.add_node("w0")
    await cluster.add_pod("web", WEB, labels={"app": "web"}, node_name="w0")
    for name, policy in (("everywhere", "Cluster"), ("local", "Local")):
        await cluster.add_service(name, [ServicePort(80, "http", name="http")],
                                  selector={"app": "web"}, type="LoadBalancer",
                                  external_traffic_policy=policy)
    return cluster


def outside(cluster: Cluster) -> dict:
    """What the cloud controller made: public IPs (in the Nodes and on the gateway), the
    gateway's NAT rules and the load balancer's routes."""
    gateway = cluster.network.namespace(GATEWAY_NAMESPACE)
    nat = gateway.netfilter.save(["nat"], when="T").splitlines()
    return {
        "external": {n.name: n.status.external_ip for n in cluster.nodes()},
        "controller": {name: str(ip) for name, ip in cluster.lb.controller.public_ips.items()},
        "gateway": sorted(str(a.interface) for a in gateway.addresses if a.dev == "eth1"),
        "nat": [line for line in nat if line.startswith("-A")],
        "lb": [r.text() for r in cluster.network.namespace(LB_NAMESPACE).main.routes()
               if r.prefix.subnet_of(LB_POOL)],
        "listeners": sorted(line for line in cluster.network.namespace(LB_NAMESPACE)
                            .netfilter.save(["filter"], when="T").splitlines()
                            if line.startswith("-A")),
    }


async def rebuilt(cluster: Cluster) -> dict:
    fresh = await restore_cluster(ClusterSettings(cni=cluster.cni.name, seed=cluster.seed),
                                  saved_objects(cluster))
    try:
        return outside(fresh)
    finally:
        await fresh.stop()


async def test_a_name_added_after_another_left_gets_the_freed_address():
    cluster = await small_lab()
    try:
        await cluster.add_node("a")
        freed = cluster.api.get("Node", "", "a").status.external_ip
        await cluster.remove_node("a")
        await cluster.add_node("b")
        seen = outside(cluster)
        assert seen["external"]["b"] == freed
        assert not any("vpc-nat: a" in line for line in seen["nat"])
        assert sum("vpc-nat: b" in line for line in seen["nat"]) == 2
        assert "nexthop via 172.18.0.4" in seen["lb"][0]   # b, where a was
        await cluster.remove_node("b")
        seen = outside(cluster)
        assert not any("172.18.0.4" in route for route in seen["lb"])
        assert f"{freed}/24" not in seen["gateway"]
        assert len(cluster.api.events) == 0, cluster.api.events.lines()
    finally:
        await cluster.stop()


CHURN = st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(NAMES)),
                 max_size=10)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(churn=CHURN, cni=st.sampled_from(sorted(CNI_PLUGINS)))
def test_any_node_churn_leaves_the_outside_as_a_fresh_lab_has_it(churn, cni):
    asyncio.run(churn_then_compare(churn, cni))


async def churn_then_compare(churn: list[tuple[str, str]], cni: str) -> None:
    cluster = await small_lab(cni)
    try:
        for op, name in churn:
            present = cluster.api.peek("Node", "", name) is not None
            if op == "add" and not present:
                await cluster.add_node(name)
            elif op == "remove" and present:
                await cluster.remove_node(name)
        assert len(cluster.api.events) == 0, cluster.api.events.lines()
        seen = outside(cluster)
        assert set(seen["external"]) == set(seen["controller"])
        assert all(seen["external"][name] == ip for name, ip in seen["controller"].items())
        assert seen == await rebuilt(cluster)
    finally:
        await cluster.stop()
