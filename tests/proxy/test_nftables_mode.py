"""kube-proxy in nftables mode on the default lab: the table each node's nf_tables holds,
and Service traffic through it, with the outcomes kube-proxy's own packet-flow tests expect
(proxier_test.go at 81810de6: TestNoEndpointsReject, TestClusterIPGeneral, TestLoadBalancer,
TestNodePorts, TestExternalTrafficPolicyLocal)."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.proxy.nft_rules import hashed

A = IPv4Address


@pytest.fixture
async def nft_lab():
    cluster = await build_default_lab(proxy_mode="nftables")
    yield cluster
    await cluster.stop()


def kube_proxy_table(cluster, node="kind-worker") -> str:
    return cluster.node_namespace(node).nft.list(["table", "ip", "kube-proxy"])


def blocks(listing: str) -> list[str]:
    """A table's sets, maps and chains, sorted (nft lists them in the order they were made,
    and a loaded lab makes them in another)."""
    return sorted(b.strip() for b in listing.rstrip().removesuffix("}").split("\n\n"))


async def test_every_node_holds_the_table_and_iptables_shows_nothing_of_kube_proxy(nft_lab):
    vip = nft_lab.find_service("web").spec.cluster_ip
    for node in nft_lab.nodes():
        table = kube_proxy_table(nft_lab, node.name)
        assert f"{vip} . tcp . 80 : goto service-{hashed('default/web/tcp/http')}" in table
        assert f"elements = {{ {node.status.internal_ip} }}" in table   # nodeport-ips
        saved = nft_lab.node_namespace(node.name).netfilter.save()
        assert "KUBE-" not in saved


async def test_pod_to_service_dispatches_by_the_map_and_dnats_in_the_endpoint_chain(nft_lab):
    trace = send(nft_lab, "pod/client", "svc/web")
    assert trace.verdict == "delivered"
    dnat = next(h for h in trace.events("nftables") if h.rewrote)
    vip = nft_lab.find_service("web").spec.cluster_ip
    assert dnat.map_entry.startswith(f"@service-ips: {vip} . tcp . 80 : goto service-")
    assert dnat.chain.startswith("endpoint-") and dnat.chain.endswith(
        f"__{dnat.packet_after.dst}/80")
    assert dnat.rule == f"{dnat.chain}: meta l4proto tcp dnat to {dnat.packet_after.dst}:80"
    reply = nft_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_packet.src == A(vip)


async def test_a_service_without_endpoints_rejects(nft_lab):
    await nft_lab.add_service("empty", [ServicePort(80, name="http")], selector={"app": "none"})
    trace = send(nft_lab, "pod/client", "svc/empty")
    assert trace.verdict == "rejected"
    assert any("reject-chain" in (h.chain or "") for h in trace.events("nftables"))


async def test_a_cluster_ip_rejects_its_other_ports_and_the_rest_of_the_range_drops(nft_lab):
    assert send(nft_lab, "pod/client", "svc/web", port=443).verdict == "rejected"
    trace = send(nft_lab, "pod/client", "10.96.200.200", port=80)
    assert trace.verdict == "dropped"
    assert any(h.chain == "cluster-ips-check" for h in trace.events("nftables"))


async def test_a_node_port_is_served_on_the_primary_address_only(nft_lab):
    await nft_lab.add_service("web-np", [ServicePort(80, "http", name="http",
                                                      node_port=30080)],
                              selector={"app": "web"}, type="NodePort")
    public = nft_lab.api.get("Node", "", "kind-worker").status.external_ip
    trace = send(nft_lab, "internet", public, port=30080)
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src in (A("172.18.0.2"), A("10.244.1.1"))   # masqueraded
    reply = nft_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    # cni0's address is the node's too, but not in @nodeport-ips
    assert send(nft_lab, "pod/client", "10.244.1.1", port=30080).verdict != "delivered"


async def test_local_policy_keeps_the_client_and_a_node_without_endpoint_drops(nft_lab):
    await nft_lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await nft_lab.add_service("solo", [ServicePort(80, "http", name="http", node_port=31000)],
                              selector={"app": "solo"}, type="NodePort",
                              external_traffic_policy="Local")
    solo = next(p for p in nft_lab.pods() if p.name.startswith("solo-"))
    other = "kind-worker2" if solo.spec.node_name == "kind-worker" else "kind-worker"
    here = nft_lab.api.get("Node", "", solo.spec.node_name).status.external_ip
    trace = send(nft_lab, "internet", here, port=31000)
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src == A("203.0.113.100")
    assert any((h.chain or "").startswith("local-") or (h.rule or "").startswith("local-")
               or "local-" in " ".join(h.matched_rules) for h in trace.events("nftables"))
    away = nft_lab.api.get("Node", "", other).status.external_ip
    trace = send(nft_lab, "internet", away, port=31000)
    assert trace.verdict == "dropped"
    assert any("no-endpoint-nodeports" in (h.map_entry or "") for h in trace.events("nftables"))


async def test_source_ranges_drop_other_clients(nft_lab):
    await nft_lab.add_service("admin", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, type="LoadBalancer",
                              load_balancer_source_ranges=["192.0.2.0/24"])
    trace = send(nft_lab, "internet", "lb/admin")
    assert trace.verdict == "dropped"
    assert any((h.chain or "").startswith("firewall-") for h in trace.events("nftables"))


async def test_session_affinity_keeps_a_client_on_its_endpoint(nft_lab):
    await nft_lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, session_affinity="ClientIP")
    chosen = {send(nft_lab, "pod/client", "svc/sticky").delivered_to.namespace
              for _ in range(6)}
    assert len(chosen) == 1
    assert "affinity-" in kube_proxy_table(nft_lab)


async def test_a_pod_sent_to_itself_through_its_service_is_masqueraded(nft_lab):
    web2 = nft_lab.find_pod("web-2")
    await nft_lab.add_service("only2", [ServicePort(80, "http", name="http")],
                              selector={"app": "web", "pod": "none"})
    trace = send(nft_lab, "pod/web-2", "svc/web")
    if trace.delivered_to and trace.delivered_to.namespace.endswith("web-2"):
        assert trace.delivered_packet.src != A(web2.status.pod_ip)


async def test_lab_files_and_compare_take_the_mode(nft_lab):
    from playground.cluster.dataplane import Dataplane
    assert Dataplane.parse("bridge/nftables").proxy_mode == "nftables"


async def test_a_saved_nftables_lab_comes_back_with_the_same_table(tmp_path):
    from playground.saves import load_lab, pack_lab, save_lab
    from playground.session.lab import Lab

    original = Lab(await build_default_lab(proxy_mode="nftables"))
    await original.run("trace pod/client svc/web")
    path = tmp_path / "nftables.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert loaded.cluster.proxy_mode == "nftables"
        assert pack_lab(loaded) == pack_lab(original)
        for node in ("kind-worker", "kind-worker2"):
            assert blocks(kube_proxy_table(loaded.cluster, node)) == \
                blocks(kube_proxy_table(original.cluster, node))
    finally:
        await loaded.close()
        await original.close()
