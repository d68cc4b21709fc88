"""kube-proxy in IPVS mode: the tables a node gets (golden files written from the real
proxier's names and ipvsadm's layout), and Service traffic through them."""

from ipaddress import IPv4Address
from pathlib import Path

import pytest
from golden_lab import small_cluster

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

GOLDEN = Path(__file__).parent / "golden"
A = IPv4Address


@pytest.fixture
async def ipvs_lab():
    cluster = await build_default_lab(proxy_mode="ipvs")
    yield cluster
    await cluster.stop()


@pytest.mark.parametrize("node", ["n1", "n2"])
async def test_node_tables_match_the_golden_files(node):
    cluster = await small_cluster("ipvs", web_affinity="ClientIP")
    ns = cluster.node_namespace(node)
    views = {"ipvsadm": ns.ipvs.listing(), "ipset": ns.ipset_list(),
             "iptables": ns.netfilter.save(["filter", "nat"], when="GOLDEN")}
    await cluster.stop()
    for kind, text in views.items():
        expected = (GOLDEN / f"{node}-ipvs.{kind}").read_text()
        assert text.splitlines() == expected.splitlines(), kind


async def test_kube_ipvs0_holds_every_service_address_and_stays_down(ipvs_lab):
    ns = ipvs_lab.node_namespace("kind-worker")
    dummy = ns.device("kube-ipvs0")
    assert dummy.kind == "dummy" and not dummy.up
    held = {str(a.interface) for a in ns.addresses if a.dev == "kube-ipvs0"}
    assert {"10.96.0.1/32", "10.96.0.10/32"} <= held
    assert ns.sysctl["net.ipv4.vs.conntrack"] == "1"
    await ipvs_lab.delete_service("web")
    web_ip = {str(a.interface) for a in ns.addresses if a.dev == "kube-ipvs0"} ^ held
    assert len(web_ip) == 1 and not ns.is_local(A(web_ip.pop().split("/")[0]))


async def test_pod_to_service_is_scheduled_by_ipvs_and_the_reply_comes_back(ipvs_lab):
    service_ip = A(ipvs_lab.find_service("web").spec.cluster_ip)
    trace = send(ipvs_lab, "pod/client", "svc/web")
    assert trace.verdict == "delivered"
    hop = next(h for h in trace.hops if h.event == "ipvs")
    assert hop.where == "node/kind-worker" and f"{service_ip}:80" in hop.detail
    assert hop.packet_after.dst == trace.delivered_packet.dst
    assert not [h for h in trace.hops if h.rule and "DNAT" in h.rule], "no iptables DNAT"
    assert trace.delivered_packet.src == A("10.244.1.2"), "a pod's source is kept"
    reply = ipvs_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    assert reply.delivered_packet.src == service_ip
    ns = ipvs_lab.node_namespace("kind-worker")
    assert f"{service_ip}:80" in ns.ipvs.connection_listing(ipvs_lab.network.clock)
    assert f"dst={service_ip} sport=" in ns.conntrack.listing()


async def test_round_robin_alternates_and_a_flow_stays_on_its_real_server(ipvs_lab):
    chosen = [send(ipvs_lab, "pod/client", "svc/web").delivered_to.namespace for _ in range(4)]
    assert chosen[0] != chosen[1] and chosen[:2] == chosen[2:]


async def test_a_node_reaching_a_service_is_masqueraded(ipvs_lab):
    trace = send(ipvs_lab, "node/kind-worker", "svc/web")
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src == A("172.18.0.2")
    assert ipvs_lab.network.reply(trace).verdict == "delivered"


async def test_a_service_without_endpoints_answers_port_unreachable(ipvs_lab):
    await ipvs_lab.add_service("empty", [ServicePort(80, name="http")],
                               selector={"app": "none"})
    trace = send(ipvs_lab, "pod/client", "svc/empty")
    assert trace.verdict == "rejected"
    assert "no real server" in next(h.detail for h in trace.hops if h.event == "ipvs")


async def test_a_service_ip_refuses_ports_it_does_not_serve(ipvs_lab):
    trace = send(ipvs_lab, "pod/client", "svc/web", port=10250)
    assert trace.verdict == "rejected"
    assert any(h.chain == "KUBE-IPVS-FILTER" for h in trace.hops if h.event == "netfilter")


async def test_session_affinity_is_ipvs_persistence(ipvs_lab):
    await ipvs_lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                               selector={"app": "web"}, session_affinity="ClientIP")
    ns = ipvs_lab.node_namespace("kind-worker")
    vip = ipvs_lab.find_service("sticky").spec.cluster_ip
    assert f"TCP  {vip}:80 rr persistent 10800" in ns.ipvs.listing()
    chosen = {send(ipvs_lab, "pod/client", "svc/sticky").delivered_to.namespace
              for _ in range(4)}
    assert len(chosen) == 1
    assert "NONE        10.244.1.2:0 " in ns.ipvs.connection_listing(ipvs_lab.network.clock)


async def test_nodeport_from_the_internet_is_masqueraded_and_answered(ipvs_lab):
    await ipvs_lab.add_service("web-np", [ServicePort(80, "http", name="http",
                                                      node_port=30080)],
                               selector={"app": "web"}, type="NodePort")
    ns = ipvs_lab.node_namespace("kind-worker")
    assert "TCP  172.18.0.2:30080 rr" in ns.ipvs.listing()
    public = ipvs_lab.api.get("Node", "", "kind-worker").status.external_ip
    trace = send(ipvs_lab, "internet", public, port=30080)
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src in (A("172.18.0.2"), A("10.244.1.1"))
    reply = ipvs_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    assert (reply.delivered_packet.src, reply.delivered_packet.sport) == (A(public), 30080)


async def test_load_balancer_cluster_policy_hides_the_client(ipvs_lab):
    await ipvs_lab.add_service("shop", [ServicePort(80, "http", name="http")],
                               selector={"app": "web"}, type="LoadBalancer")
    trace = send(ipvs_lab, "internet", "lb/shop")
    assert trace.verdict == "delivered" and trace.events("ipvs")
    assert trace.delivered_packet.src != A("203.0.113.100")
    reply = ipvs_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_packet.src == A("198.51.100.10")


async def test_load_balancer_local_policy_keeps_the_client_ip(ipvs_lab):
    await ipvs_lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await ipvs_lab.add_service("solo", [ServicePort(80, "http", name="http")],
                               selector={"app": "solo"}, type="LoadBalancer",
                               external_traffic_policy="Local")
    for _ in range(3):
        trace = send(ipvs_lab, "internet", "lb/solo")
        assert trace.verdict == "delivered"
        assert trace.delivered_packet.src == A("203.0.113.100")
        assert ipvs_lab.network.reply(trace).verdict == "delivered"


async def test_local_policy_node_without_endpoint_has_no_real_server(ipvs_lab):
    await ipvs_lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await ipvs_lab.add_service("solo", [ServicePort(80, "http", name="http", node_port=31000)],
                               selector={"app": "solo"}, type="NodePort",
                               external_traffic_policy="Local")
    solo = next(p for p in ipvs_lab.pods() if p.name.startswith("solo-"))
    other = "kind-worker2" if solo.spec.node_name == "kind-worker" else "kind-worker"
    public = ipvs_lab.api.get("Node", "", other).status.external_ip
    trace = send(ipvs_lab, "internet", public, port=31000)
    assert trace.verdict == "rejected"


async def test_source_ranges_drop_other_clients(ipvs_lab):
    await ipvs_lab.add_service("admin", [ServicePort(80, "http", name="http")],
                               selector={"app": "web"}, type="LoadBalancer",
                               load_balancer_source_ranges=["192.0.2.0/24"])
    trace = send(ipvs_lab, "internet", "lb/admin")
    assert trace.verdict == "dropped"
    assert any(h.chain == "KUBE-SOURCE-RANGES-FIREWALL" for h in trace.hops)


async def test_same_seed_same_traces():
    runs = []
    for _ in range(2):
        cluster = await build_default_lab(seed=5, proxy_mode="ipvs")
        runs.append([send(cluster, "pod/client", "svc/web").to_dict() for _ in range(3)])
        await cluster.stop()
    assert runs[0] == runs[1]


async def test_a_removed_endpoint_takes_its_real_server_and_udp_flows_with_it(ipvs_lab):
    trace = send(ipvs_lab, "pod/client", "svc/kube-system/kube-dns", proto="udp")
    assert trace.verdict == "delivered"
    node = ipvs_lab.node_namespace("kind-worker")
    chosen = trace.delivered_to.namespace.split("/")[-1]
    address = ipvs_lab.find_pod(chosen, "kube-system").status.pod_ip
    assert "UDP 05:00  UDP         10.244.1.2:" in node.ipvs.connection_listing(
        ipvs_lab.network.clock)
    await ipvs_lab.delete_pod(chosen, namespace="kube-system")
    assert "udp" not in node.conntrack.listing()
    assert address not in node.ipvs.listing() and "UDP " not in node.ipvs.connection_listing()
    again = send(ipvs_lab, "pod/client", "svc/kube-system/kube-dns", proto="udp")
    assert again.verdict == "delivered"
    assert again.delivered_to.namespace != trace.delivered_to.namespace


async def test_a_pod_sent_to_itself_is_masqueraded_by_the_loop_back_set(ipvs_lab):
    traces = [send(ipvs_lab, "pod/web-2", "svc/web") for _ in range(2)]
    itself = next(t for t in traces if t.delivered_to.namespace == "pod/default/web-2")
    hairpin = next(h for h in itself.hops if h.rule and "KUBE-LOOP-BACK" in h.rule)
    assert hairpin.rule.endswith("--match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE")
    assert itself.delivered_packet.src == A("10.244.1.1"), "the node's address, not its own"
    reply = ipvs_lab.network.reply(itself)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/web-2"


def nodeport_servers(cluster, node: str, port: int) -> list[str]:
    listing = cluster.node_namespace(node).ipvs.listing().splitlines()
    return sorted(line.split()[1] for line in listing if line.endswith(" rr")
                  and line.split()[1].endswith(f":{port}"))


async def test_a_loaded_lab_serves_the_node_port_on_cni0_too(ipvs_lab):
    """issue 22: after a save and load the virtual server on cni0's address was missing."""
    from playground.cluster.restore import (
        ClusterSettings,
        nodes_with_bridge,
        restore_cluster,
        saved_objects,
    )
    await ipvs_lab.add_service("np", [ServicePort(80, "http", name="http", node_port=30080)],
                               selector={"app": "web"}, type="NodePort")
    before = nodeport_servers(ipvs_lab, "kind-worker", 30080)
    assert before == ["10.244.1.1:30080", "172.18.0.2:30080"]
    loaded = await restore_cluster(ClusterSettings(proxy_mode="ipvs",
                                                   bridges=nodes_with_bridge(ipvs_lab)),
                                   saved_objects(ipvs_lab))
    try:
        assert nodeport_servers(loaded, "kind-worker", 30080) == before
        assert loaded.node_namespace("kind-worker").ipvs.listing() == \
            ipvs_lab.node_namespace("kind-worker").ipvs.listing()
    finally:
        await loaded.stop()


async def test_the_node_port_comes_to_cni0_when_a_pod_of_no_service_makes_it(ipvs_lab):
    """The proxier lists the node's addresses on each sync: a bridge made by a pod no
    Service selects still gets the NodePort."""
    await ipvs_lab.add_node("extra")
    await ipvs_lab.add_service("np", [ServicePort(80, "http", name="http", node_port=30080)],
                               selector={"app": "web"}, type="NodePort")
    node_ip = ipvs_lab.api.get("Node", "", "extra").status.internal_ip
    assert nodeport_servers(ipvs_lab, "extra", 30080) == [f"{node_ip}:30080"]
    await ipvs_lab.add_pod("loner", [Container("loner", "busybox")], node_name="extra")
    bridge = ipvs_lab.node_namespace("extra").primary_address("cni0")
    assert nodeport_servers(ipvs_lab, "extra", 30080) == sorted(
        [f"{bridge}:30080", f"{node_ip}:30080"])


EXTERNAL_COMMENT = "Kubernetes service external ip + port for masquerade and filter purpose"


def reals(listing: str, service: str) -> list[str]:
    """The real servers ipvsadm -Ln lists under one virtual service."""
    lines = listing.splitlines()
    start = lines.index(service) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ->")),
               len(lines))
    return [line.split()[1] for line in lines[start:end]]


def kube_services(ns) -> list[str]:
    return [line for line in ns.netfilter.save(["nat"]).splitlines()
            if line.startswith("-A KUBE-SERVICES")]


async def test_external_ips_are_virtual_servers_on_kube_ipvs0_with_their_sets_and_rules(
        ipvs_lab):
    await ipvs_lab.add_service("front", [ServicePort(80, "http", name="http")],
                               selector={"app": "web"}, external_ips=["192.0.2.10"])
    await ipvs_lab.add_service("front-local", [ServicePort(81, "http", name="http")],
                               selector={"app": "web"}, external_ips=["192.0.2.11"],
                               external_traffic_policy="Local")
    ns = ipvs_lab.node_namespace("kind-worker")
    listing = ns.ipvs.listing()
    assert len(reals(listing, "TCP  192.0.2.10:80 rr")) == 2, "Cluster policy: every web pod"
    mine = [f"{p.status.pod_ip}:80" for p in ipvs_lab.pods()
            if p.name.startswith("web-") and p.spec.node_name == "kind-worker"]
    assert reals(listing, "TCP  192.0.2.11:81 rr") == mine, "Local: the pod on this node"
    assert "192.0.2.10,tcp:80" in ns.ipset_list("KUBE-EXTERNAL-IP")
    assert "192.0.2.11,tcp:81" in ns.ipset_list("KUBE-EXTERNAL-IP-LOCAL")
    assert "192.0.2.11" in ns.ipset_list("KUBE-IPVS-IPS")
    held = {str(a.interface) for a in ns.addresses if a.dev == "kube-ipvs0"}
    assert {"192.0.2.10/32", "192.0.2.11/32"} <= held
    rules = kube_services(ns)
    head = f'-m comment --comment "{EXTERNAL_COMMENT}" -m set --match-set KUBE-EXTERNAL-IP dst,dst'
    local = head.replace("KUBE-EXTERNAL-IP dst", "KUBE-EXTERNAL-IP-LOCAL dst").replace(
        EXTERNAL_COMMENT, "Kubernetes service external ip + port with externalTrafficPolicy=local")
    expected = [f"-A KUBE-SERVICES {head} -j KUBE-MARK-MASQ",
                f"-A KUBE-SERVICES {head} -m physdev ! --physdev-is-in -m addrtype ! --src-type "
                "LOCAL -j ACCEPT",
                f"-A KUBE-SERVICES {head} -m addrtype --dst-type LOCAL -j ACCEPT",
                f"-A KUBE-SERVICES {local} -m physdev ! --physdev-is-in -m addrtype ! "
                "--src-type LOCAL -j ACCEPT",
                f"-A KUBE-SERVICES {local} -m addrtype --dst-type LOCAL -j ACCEPT",
                "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT"]
    start = rules.index(expected[0])
    assert rules[start:start + len(expected)] == expected
    await ipvs_lab.delete_service("front")
    assert "192.0.2.10" not in ns.ipvs.listing() and not any("KUBE-EXTERNAL-IP dst" in r
                                                             for r in kube_services(ns))
    assert "192.0.2.10/32" not in {str(a.interface) for a in ns.addresses}


async def test_an_external_ip_the_node_holds_is_served_but_not_bound_again(ipvs_lab):
    node_ip = ipvs_lab.api.get("Node", "", "kind-worker").status.internal_ip
    await ipvs_lab.add_service("front", [ServicePort(8080, "http", name="http")],
                               selector={"app": "web"}, external_ips=[node_ip])
    ns = ipvs_lab.node_namespace("kind-worker")
    assert f"TCP  {node_ip}:8080 rr" in ns.ipvs.listing()
    assert node_ip not in ns.ipset_list("KUBE-IPVS-IPS")
    assert not [a for a in ns.addresses if a.dev == "kube-ipvs0" and str(a.ip) == node_ip]
    other = ipvs_lab.node_namespace("kind-worker2")
    assert [a for a in other.addresses if a.dev == "kube-ipvs0" and str(a.ip) == node_ip]


@pytest.mark.parametrize("source", ["pod/client", "node/kind-worker"])
async def test_a_pod_or_node_reaches_an_external_ip_through_ipvs(ipvs_lab, source):
    await ipvs_lab.add_service("front", [ServicePort(80, "http", name="http")],
                               selector={"app": "web"}, external_ips=["192.0.2.10"])
    trace = send(ipvs_lab, source, "192.0.2.10", port=80)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace.startswith(
        "pod/default/web-")
    accepted = next(h for h in trace.hops if h.chain == "KUBE-SERVICES")
    # a pod's packet came in through a cni0 port, the node's from a local address: neither
    # is "off the machine", both are for an address on kube-ipvs0
    assert accepted.rule.endswith("-m addrtype --dst-type LOCAL -j ACCEPT")
    hop = next(h for h in trace.hops if h.event == "ipvs")
    assert hop.where == "node/kind-worker" and "192.0.2.10:80" in hop.detail
    assert not [h for h in trace.hops if h.rule and "DNAT" in h.rule], "no iptables DNAT"
    assert any("MASQUERADE" in h.detail for h in trace.hops), "KUBE-EXTERNAL-IP marks it"
    reply = ipvs_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_packet.src == A("192.0.2.10")
