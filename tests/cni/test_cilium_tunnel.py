"""cilium-vxlan: Cilium in tunnel mode. Other nodes' pods are reached through cilium_host,
whose program sets the tunnel key from the tunnel map and redirects into cilium_vxlan."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.cilium_views import cilium_view
from playground.cluster.lab import build_default_lab, web
from playground.cluster.legs import send
from playground.cluster.service import ServicePort

A = IPv4Address


@pytest.fixture
async def tunnel():
    cluster = await build_default_lab(cni="cilium-vxlan")
    yield cluster
    await cluster.stop()


def steps(trace):
    return [(h.where, h.program.split()[0] if h.program else h.event) for h in trace.hops
            if h.program or h.event in ("encapsulate", "decapsulate")]


async def test_every_pod_cidr_goes_to_cilium_host_and_the_tunnel_map_names_the_nodes(tunnel):
    ns = tunnel.node_namespace("kind-worker")
    routes = ns.ip_route()
    for cidr in ("10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"):
        assert f"{cidr} via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1" in routes
    assert cilium_view(tunnel, ns.name, ["bpf", "tunnel", "list"]) == (
        "TUNNEL         VALUE          \n"
        "10.244.0.0:0   172.18.0.4:0   \n"
        "10.244.2.0:0   172.18.0.3:0   \n")
    pod = tunnel.network.namespace("pod/default/client")
    assert pod.device("eth0").mtu == 1450 and ns.device("cilium_vxlan").dstport == 8472


async def test_a_pod_on_another_node_is_reached_through_the_tunnel(tunnel):
    trace = send(tunnel, "pod/client", "pod/web-1")
    assert trace.verdict == "delivered"
    assert steps(trace) == [("pod/default/client", "cil_sock4_connect"),
                            ("node/kind-worker", "cil_from_container"),
                            ("node/kind-worker", "cil_from_host"),
                            ("node/kind-worker", "encapsulate"),
                            ("node/kind-worker2", "cil_from_netdev"),
                            ("node/kind-worker2", "decapsulate"),
                            ("node/kind-worker2", "cil_from_overlay"),
                            ("node/kind-worker2", "cil_to_container")]
    encap = trace.events("encapsulate")[0]
    assert (encap.packet_after.src, encap.packet_after.dst, encap.packet_after.dport) == (
        A("172.18.0.2"), A("172.18.0.3"), 8472)
    assert trace.hops[[h.event for h in trace.hops].index("encapsulate") - 1].map_entry == \
        "cilium_tunnel_map 10.244.2.0/24 → 172.18.0.3"
    reply = tunnel.network.reply(trace)
    assert reply.verdict == "delivered" and reply.events("encapsulate")


async def test_a_load_balancer_to_a_remote_backend_is_snated_then_tunnelled(tunnel):
    await tunnel.add_deployment("shop", web("shop"), replicas=1)
    await tunnel.add_service("shop", [ServicePort(80, "http", name="http")],
                             selector={"app": "shop"}, type="LoadBalancer")
    for _ in range(40):
        trace = send(tunnel, "internet", "lb/shop")
        if trace.events("encapsulate"):
            break
    assert trace.verdict == "delivered" and trace.events("encapsulate")
    netdev = [h for h in trace.hops if h.program and h.program.startswith("cil_from_netdev")][0]
    assert netdev.packet_after.src == tunnel.node_ips[netdev.where.split("/")[1]]
    reply = tunnel.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
