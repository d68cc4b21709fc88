"""Nodes joining and leaving, pods on them or not: every node's routes, rules and IPVS
tables are what a lab built afresh from the same objects has, for every CNI and proxy mode
(an IPVS proxier lists the node's addresses at each sync, so a NodePort also listens on what
a CNI or flanneld gave the node after the proxier started); the same packets then leave the
same conntrack entries in both; and the lab saved and opened again is the same lab."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.restore import (
    ClusterSettings,
    nodes_with_bridge,
    restore_cluster,
    saved_objects,
)
from playground.cluster.service import ServicePort
from playground.saves import load_lab_bytes, pack_lab
from playground.session.lab import Lab

WEB = [Container("web", ports=[ContainerPort(8080, "http")])]


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
    """Each node's routes, rules and IPVS tables, and every conntrack table that holds any."""
    cluster.wake_all()
    seen = {}
    for node in cluster.nodes():
        ns = cluster.node_namespace(node.name)
        seen[f"{node.name}: ip route"] = ns.ip_route()
        seen[f"{node.name}: iptables-save"] = ns.netfilter.save(["filter", "nat"], when="T")
        if ns.ipvs is not None:
            seen[f"{node.name}: ipvsadm"] = ns.ipvs.listing()
    for name, ns in sorted(cluster.network.namespaces.items()):
        if len(ns.conntrack):
            seen[f"{name}: conntrack -L"] = ns.conntrack.listing()
    return seen


def probes(cluster: Cluster) -> list[tuple[str, str, int | None]]:
    """From outside to the LoadBalancer and to each node's NodePort, and from inside."""
    node_port = cluster.find_service("np").spec.ports[0].node_port
    sent = [("internet", "lb/lb", None), ("pod/web", "svc/np", None)]
    for node in cluster.nodes():
        sent.append((f"node/{node.name}", "svc/np", None))
        if node.status.external_ip:
            sent.append(("internet", node.status.external_ip, node_port))
    return sent


def traffic(cluster: Cluster, start: tuple) -> list[str]:
    """The probes and their replies, sent from the same random state and lab time."""
    cluster.network.rng.setstate(start[0])
    cluster.network.clock = start[1]
    seen = []
    for src, dst, port in probes(cluster):
        try:
            trace = send(cluster, src, dst, port=port)
        except ClusterError as error:
            seen.append(f"{src} -> {dst}: {error}")
            continue
        seen.append(f"{src} -> {dst}: {trace.verdict} {trace.path()}")
        if trace.verdict == "delivered":
            reply = cluster.network.reply(trace)
            seen.append(f"  reply: {reply.verdict} {reply.path()}")
    return seen


async def rebuilt(cluster: Cluster) -> Cluster:
    return await restore_cluster(ClusterSettings(cni=cluster.cni.name,
                                                 proxy_mode=cluster.proxy_mode,
                                                 bridges=nodes_with_bridge(cluster)),
                                 saved_objects(cluster))


async def rebuilt_views(cluster: Cluster) -> dict[str, str]:
    fresh = await rebuilt(cluster)
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


CHURN = st.lists(st.tuples(st.sampled_from(["add", "add with a pod", "remove",
                                            "delete a shop pod"]),
                           st.sampled_from(["a", "b", "c"])), max_size=8)


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(churn=CHURN)
def test_any_node_churn_leaves_every_node_as_a_fresh_lab_has_it(dataplane, churn):
    """`dataplane`: every one the registry offers (tests/conftest.py)."""
    asyncio.run(churn_then_compare(dataplane.cni, dataplane.proxy_mode, churn))


async def churn_then_compare(cni: str, mode: str, churn: list[tuple[str, str]]) -> None:
    cluster = await served_lab(cni, mode)
    await cluster.add_deployment("shop", WEB, 2, labels={"app": "web"})
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
            elif op == "delete a shop pod":   # its ReplicaSet makes another
                shop = sorted(p.name for p in cluster.pods() if p.name.startswith("shop-"))
                if shop:
                    await cluster.delete_pod(shop[0])
        assert len(cluster.api.events) == 0, cluster.api.events.lines()
        assert node_views(cluster) == await rebuilt_views(cluster)
        reopened = await load_lab_bytes(pack_lab(Lab(cluster)))
        fresh = await rebuilt(cluster)
        try:
            assert saved_objects(reopened.cluster) == saved_objects(cluster)
            start = (cluster.network.rng.getstate(), cluster.network.clock)
            sent = traffic(cluster, start)
            for other in (fresh, reopened.cluster):
                assert traffic(other, start) == sent
                assert node_views(other) == node_views(cluster)
        finally:
            await fresh.stop()
            await reopened.close()
    finally:
        await cluster.stop()
