"""Pod to Service: kube-proxy's rules, applied by the modelled kernel."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.service import ServicePort

A = IPv4Address


def nat_hops(trace):
    return [h for h in trace.hops if h.event == "netfilter" and h.table == "nat"
            and h.rule and "DNAT" in h.rule]


def test_pod_to_cluster_ip_is_dnated_on_the_client_node_and_undone_on_the_reply(lab):
    service_ip = A(lab.find_service("web").spec.cluster_ip)
    trace = send(lab, "pod/client", "svc/web")
    assert trace.verdict == "delivered"
    assert trace.delivered_to.namespace in ("pod/default/web-1", "pod/default/web-2")
    dnat = nat_hops(trace)[0]
    assert dnat.where == "node/kind-worker" and dnat.chain.startswith("KUBE-SEP-")
    assert dnat.packet_before.dst == service_ip
    assert dnat.packet_after.dst == trace.delivered_packet.dst
    jumps = " ".join(dnat.matched_rules)
    assert "-j KUBE-SERVICES" in jumps and "-j KUBE-SVC-" in jumps
    assert trace.delivered_packet.src == A("10.244.1.2"), "pod to service keeps the pod IP"
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    assert reply.delivered_packet.src == service_ip
    listing = lab.node_namespace("kind-worker").conntrack.listing()
    assert f"dst={service_ip} sport=" in listing


def test_the_statistic_rules_spread_connections_reproducibly(lab):
    chosen = [send(lab, "pod/client", "svc/web").delivered_to.namespace for _ in range(40)]
    assert set(chosen) == {"pod/default/web-1", "pod/default/web-2"}
    assert 10 <= chosen.count("pod/default/web-1") <= 30


async def test_same_seed_same_choices():
    from playground.cluster.lab import build_default_lab

    runs = []
    for _ in range(2):
        cluster = await build_default_lab(seed=5)
        runs.append([send(cluster, "pod/client", "svc/web").to_dict() for _ in range(5)])
        await cluster.stop()
    assert runs[0] == runs[1]


async def test_a_service_without_endpoints_rejects(lab):
    await lab.add_service("empty", [ServicePort(80, name="http")], selector={"app": "none"})
    trace = send(lab, "pod/client", "svc/empty")
    assert trace.verdict == "rejected"
    rejecting = [h for h in trace.hops if h.event == "netfilter" and h.rule
                 and "REJECT" in h.rule]
    assert '"default/empty:http has no endpoints"' in rejecting[0].rule
    assert rejecting[0].chain == "KUBE-SERVICES" and rejecting[0].table == "filter"
    error = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert error and error[-1].where == "pod/default/client"


async def test_hairpin_to_its_own_service_is_masqueraded(lab):
    await lab.add_service("self", [ServicePort(80, name="http")], selector={"app": "web"})
    # with web-1 and web-2 both endpoints, try until web-2 reaches itself
    for _ in range(20):
        trace = send(lab, "pod/web-2", "svc/self")
        if trace.delivered_to.namespace == "pod/default/web-2":
            break
    assert trace.delivered_to.namespace == "pod/default/web-2"
    assert trace.delivered_packet.src == A("10.244.1.1"), "masqueraded to the bridge address"
    masquerade = [h for h in trace.hops if h.rule and "MASQUERADE" in h.rule]
    assert masquerade and masquerade[0].where == "node/kind-worker"
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/web-2"


async def test_endpoints_follow_pods(lab):
    await lab.delete_pod("web-1")
    for _ in range(5):
        assert send(lab, "pod/client", "svc/web").delivered_to.namespace == "pod/default/web-2"
    saved = lab.node_namespace("kind-worker2").netfilter.save(["nat"])
    assert "10.244.2.2:80" not in saved
    assert "--probability" not in saved.split("default/web:http -> ")[1].split("\n")[0]


async def test_service_errors_are_clear(lab):
    with pytest.raises(ClusterError, match=r'^The Service "dup" is invalid: spec.clusterIPs: '
                                           r'Invalid value: \[\]string\{"10.96.0.10"\}: failed '
                                           r'to allocate IP 10.96.0.10: provided IP is already '
                                           r'allocated$'):
        await lab.add_service("dup", [ServicePort(80)], cluster_ip="10.96.0.10")
    with pytest.raises(ClusterError, match=r'^The Service "odd" is invalid: spec.type: Unsupported '
                                           r'value: "Headless": supported values: "ClusterIP", '
                                           r'"ExternalName", "LoadBalancer", "NodePort"$'):
        await lab.add_service("odd", [ServicePort(80)], type="Headless")
    with pytest.raises(ClusterError, match=r"spec.ports\[0\].port: Invalid value: 70000: must "
                                           "be between 1 and 65535, inclusive"):
        await lab.add_service("big", [ServicePort(70000)])
    await lab.add_service("np", [ServicePort(80, node_port=30080)], type="NodePort",
                          selector={"app": "web"})
    with pytest.raises(ClusterError, match=r'^The Service "np2" is invalid: spec.ports\[0\].'
                                           r'nodePort: Invalid value: 30080: provided port is '
                                           r'already allocated$'):
        await lab.add_service("np2", [ServicePort(80, node_port=30080)], type="NodePort")
    assert [s.name for s in lab.services("default")] == ["kubernetes", "np", "web"]


def test_kube_proxy_chain_names_are_hashed_as_the_real_one(lab):
    saved = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    # the real names of kube-dns's and kubernetes' chains on every cluster
    assert "-j KUBE-SVC-TCOU7JCQXEZGVUNU" in saved
    assert "-j KUBE-SVC-NPX46M4PTMTKRN6Y" in saved


async def test_scaling_a_deployment_rewrites_the_rules(lab):
    from playground.cluster.objects import Container, ContainerPort

    await lab.add_deployment("shop", [Container("shop", ports=[ContainerPort(8080, "http")])],
                             replicas=3)
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "shop"})
    nat = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    shop_rules = [line for line in nat.splitlines() if '"default/shop:http ->' in line]
    assert len(shop_rules) == 3
    assert "--probability 0.33333333349" in shop_rules[0]
    assert "--probability 0.50000000000" in shop_rules[1]
    assert "--probability" not in shop_rules[2]
    assert send(lab, "pod/client", "svc/shop").delivered_packet.dport == 8080
    await lab.scale("shop", 1)
    assert len([p for p in lab.pods() if p.name.startswith("shop-")]) == 1
    nat = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    shop_rules = [line for line in nat.splitlines() if '"default/shop:http ->' in line]
    assert len(shop_rules) == 1 and "--probability" not in shop_rules[0]


async def test_scaling_past_the_pool_is_refused_and_rolled_back():
    from playground.cluster.cluster import Cluster
    from playground.cluster.objects import Container

    cluster = Cluster(node_cidr_mask=29)  # room for five pods (.2-.6)
    await cluster.start()
    await cluster.add_node("n1")
    await cluster.add_deployment("web", [Container("web")], replicas=2)
    with pytest.raises(ClusterError, match="7 more pods do not fit: .* have 3 pod addresses"):
        await cluster.scale("web", 9)
    assert cluster.api.get("Deployment", "default", "web").replicas == 2
    assert len(cluster.pods()) == 2
    await cluster.stop()


async def test_udp_flows_to_a_removed_endpoint_are_forgotten(lab):
    trace = send(lab, "pod/client", "svc/kube-system/kube-dns", proto="udp")
    assert trace.verdict == "delivered"
    node = lab.node_namespace("kind-worker")
    assert "udp" in node.conntrack.listing()
    chosen = trace.delivered_to.namespace.split("/")[-1]
    await lab.delete_pod(chosen, namespace="kube-system")
    assert "udp" not in node.conntrack.listing()


def test_conntrack_entries_expire_as_lab_time_passes(lab):
    send(lab, "pod/client", "svc/kube-system/kube-dns", proto="udp")
    node = lab.node_namespace("kind-worker")
    assert node.conntrack.listing().startswith("udp      17 30 ")
    lab.network.advance(31)
    assert node.conntrack.listing() == ""


async def test_internal_traffic_policy_local_keeps_traffic_on_the_node(lab):
    await lab.add_service("near", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, internal_traffic_policy="Local")
    for _ in range(10):
        trace = send(lab, "pod/client", "svc/near")
        assert trace.delivered_to.namespace == "pod/default/web-2"
    nat = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    assert '"default/near:http cluster IP" -m tcp --dport 80 -j KUBE-SVL-' in nat


async def test_session_affinity_keeps_a_client_on_one_endpoint(lab):
    await lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, session_affinity="ClientIP")
    chosen = {send(lab, "pod/client", "svc/sticky").delivered_to.namespace for _ in range(15)}
    assert len(chosen) == 1
    nat = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    assert ("-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-" in nat
            and "--mask 255.255.255.255 --rsource -j KUBE-SEP-" in nat)
    assert "-m recent --set --name KUBE-SEP-" in nat

    def walked(trace):
        return " ".join(text for h in trace.hops if h.table == "nat" for text in h.matched_rules)

    assert "--rcheck" in walked(send(lab, "pod/client", "svc/sticky"))
    lab.network.advance(10801)
    assert "--rcheck" not in walked(send(lab, "pod/client", "svc/sticky")), \
        "after three hours the client is forgotten and the statistic rules choose again"


def test_without_bridge_nf_a_same_node_reply_is_not_un_nated(lab):
    lab.set_node_sysctl("net.bridge.bridge-nf-call-iptables=0")
    for _ in range(30):
        trace = send(lab, "pod/client", "svc/web")
        if trace.delivered_to.namespace == "pod/default/web-2":
            break
    assert trace.delivered_to.namespace == "pod/default/web-2", "web-2 shares the client's node"
    reply = lab.network.reply(trace)
    # the answer is switched by cni0 without netfilter: it still says 10.244.1.3
    assert reply.verdict == "rejected"
    arrived = next(h for h in reply.hops if h.where == "pod/default/client"
                   and h.event == "reject")
    assert arrived.packet_before.src == A("10.244.1.3")
    lab.set_node_sysctl("net.bridge.bridge-nf-call-iptables=1")
    trace = send(lab, "pod/client", "svc/web")
    assert lab.network.reply(trace).verdict == "delivered"


def test_bad_sysctl_is_a_clear_error(lab):
    with pytest.raises(ClusterError, match="not modelled here"):
        lab.set_node_sysctl("net.ipv4.nope=1")
    with pytest.raises(ClusterError, match="write it as KEY=VALUE"):
        lab.set_node_sysctl("net.ipv4.ip_forward")
