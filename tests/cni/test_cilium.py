"""The cilium CNI in a whole cluster: its devices and routes, no kube-proxy, and Service
traffic translated by eBPF programs at the socket and at eth0."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.cilium_views import cilium_view
from playground.cluster.lab import build_default_lab, web
from playground.cluster.legs import send
from playground.cluster.service import ServicePort
from playground.net.packet import ICMP_DEST_UNREACH, PORT_UNREACHABLE

A = IPv4Address


@pytest.fixture
async def cilium():
    cluster = await build_default_lab(cni="cilium")
    yield cluster
    await cluster.stop()


def programs(trace, name):
    return [h for h in trace.hops if h.program and h.program.startswith(name + " ")]


def dnat_rules(trace):
    return [h for h in trace.hops if h.event == "netfilter" and h.rule and "DNAT" in h.rule]


async def test_nodes_have_cilium_host_lxc_veths_and_native_routes(cilium):
    ns = cilium.node_namespace("kind-worker")
    assert ns.ip_route() == (
        "default via 172.18.0.1 dev eth0\n"
        "10.244.0.0/24 via 172.18.0.4 dev eth0 proto kernel\n"
        "10.244.1.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1\n"
        "10.244.1.1 dev cilium_host proto kernel scope link\n"
        "10.244.2.0/24 via 172.18.0.3 dev eth0 proto kernel\n"
        "172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.2\n")
    veths = [name for name in ns.devices if name.startswith("lxc")]
    assert len(veths) == 2 and all(len(name) == 15 for name in veths)
    assert "cni0" not in ns.devices and "cilium_net" in ns.devices
    pod = cilium.network.namespace("pod/default/client")
    assert "default via 10.244.1.1 dev eth0" in pod.ip_route()
    assert pod.primary_address("eth0") == A("10.244.1.2")


async def test_no_kube_proxy_rules_only_ciliums_masquerade(cilium):
    for node in cilium.nodes():
        saved = cilium.node_namespace(node.name).netfilter.save()
        assert "KUBE-" not in saved and "KIND-MASQ" not in saved
        assert "-j CILIUM_POST_nat" in saved and '"cilium masquerade non-cluster"' in saved


async def test_pod_to_cluster_ip_is_translated_at_connect_and_never_dnated(cilium):
    service_ip = A(cilium.find_service("web").spec.cluster_ip)
    trace = send(cilium, "pod/client", "svc/web")
    assert trace.verdict == "delivered"
    first = trace.hops[0]
    assert first.program == "cil_sock4_connect (cgroup/connect4)"
    assert first.packet_before.dst == service_ip and first.packet_after.dst != service_ip
    assert "cilium_lb4_services_v2" in first.map_entry and "cilium_lb4_backends_v3" in \
        first.map_entry
    assert not dnat_rules(trace)
    assert all(h.packet_after.dst != service_ip for h in trace.hops[1:] if h.role == "packet")
    assert trace.delivered_packet.dst == first.packet_after.dst


async def test_across_nodes_the_pod_is_reached_through_cilium_host_and_the_endpoint_map(
        cilium):
    trace = send(cilium, "pod/client", "pod/web-1")
    assert trace.verdict == "delivered"
    path = [(h.where, h.program.split()[0]) for h in trace.hops if h.program]
    assert path == [("pod/default/client", "cil_sock4_connect"),
                    ("node/kind-worker", "cil_from_container"),
                    ("node/kind-worker2", "cil_from_netdev"),
                    ("node/kind-worker2", "cil_from_host"),
                    ("node/kind-worker2", "cil_to_container")]
    redirect = programs(trace, "cil_from_host")[0]
    assert redirect.detail.split(" → ")[1].startswith("redirect")
    assert redirect.map_entry.startswith("cilium_lxc 10.244.2.2 → id=")


async def test_the_reply_needs_no_reverse_nat_and_the_socket_reports_the_service(cilium):
    service_ip = A(cilium.find_service("web").spec.cluster_ip)
    trace = send(cilium, "pod/client", "svc/web")
    reply = cilium.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    assert reply.delivered_packet.src == trace.delivered_packet.dst, "the backend, unchanged"
    assert not [h for h in reply.hops if h.rewrote and h.event in ("nat", "bpf")]
    peer = programs(reply, "cil_sock4_getpeername")[0]
    assert f"getpeername() answers {service_ip}:80" in peer.detail
    assert peer.map_entry.startswith("cilium_lb4_reverse_sk cookie ")


async def test_udp_to_a_service_shows_the_service_as_the_reply_source(cilium):
    trace = send(cilium, "pod/client", "svc/kube-system/kube-dns", "udp", 53)
    assert trace.verdict == "delivered"
    reply = cilium.network.reply(trace)
    shown = programs(reply, "cil_sock4_recvmsg")[0]
    assert shown.packet_after.src == A("10.96.0.10") and shown.packet_before.src != \
        A("10.96.0.10")


async def test_a_service_without_endpoints_fails_the_connect_and_sends_nothing(cilium):
    await cilium.add_service("empty", [ServicePort(80, 80)], selector={"app": "none"},
                             type="NodePort")
    trace = send(cilium, "pod/client", "svc/empty")
    assert trace.verdict == "unreachable" and "EHOSTUNREACH" in trace.reason
    assert len(trace.hops) == 1 and trace.hops[0].program.startswith("cil_sock4_connect")


async def test_nodeport_from_outside_without_endpoints_is_answered_port_unreachable(cilium):
    await cilium.add_service("empty", [ServicePort(80, 80)], selector={"app": "none"},
                             type="NodePort")
    node_port = cilium.find_service("empty").spec.ports[0].node_port
    public = cilium.api.get("Node", "", "kind-worker").status.external_ip
    trace = send(cilium, "internet", public, "tcp", node_port)
    assert trace.verdict == "dropped" and "cil_from_netdev" in trace.reason
    assert "Service backend not found" in programs(trace, "cil_from_netdev")[0].detail
    answer = [h for h in trace.hops if h.role == "error" and h.event == "deliver"][0]
    assert answer.where == "internet"
    assert (answer.packet_after.icmp_type, answer.packet_after.icmp_code) == (
        ICMP_DEST_UNREACH, PORT_UNREACHABLE)


async def lb_trace(cluster, policy: str, want_remote: bool):
    """Send until the cloud LB picks a node whose chosen backend is (not) remote."""
    for _ in range(40):
        trace = send(cluster, "internet", f"lb/shop-{policy}")
        netdev = programs(trace, "cil_from_netdev")[0]
        if ("another node" in netdev.detail) == want_remote:
            return trace, netdev
    raise AssertionError("no such trace")


@pytest.fixture
async def shop(cilium):
    await cilium.add_deployment("shop", web("shop"), replicas=1)
    for policy in ("Cluster", "Local"):
        await cilium.add_service(f"shop-{policy.lower()}", [ServicePort(80, "http",
                                                                        name="http")],
                                 selector={"app": "shop"}, type="LoadBalancer",
                                 external_traffic_policy=policy)
    return cilium


async def test_loadbalancer_cluster_policy_snats_to_the_node_for_a_remote_backend(shop):
    trace, netdev = await lb_trace(shop, "cluster", want_remote=True)
    assert trace.verdict == "delivered"
    node_ip = shop.node_ips[netdev.where.split("/")[1]]
    assert netdev.packet_after.src == node_ip and netdev.packet_after.dst == \
        trace.delivered_packet.dst
    assert "SNAT to this node's" in netdev.detail and "externalTrafficPolicy Cluster" in \
        netdev.detail
    nat = cilium_view(shop, netdev.where, ["bpf", "nat", "list"])
    assert f"XLATE_SRC {node_ip}:" in nat and "XLATE_DST 203.0.113.100:" in nat
    svc = cilium_view(shop, netdev.where, ["bpf", "ct", "list", "global"])
    assert "TCP SVC 203.0.113.100:" in svc
    reply = shop.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    assert reply.delivered_packet.src == A(shop.find_service("shop-cluster")
                                           .status.load_balancer_ips[0])
    back = [h for h in programs(reply, "cil_from_netdev") if h.where == netdev.where][0]
    assert back.packet_before.dst == node_ip and back.packet_after.dst == A("203.0.113.100")


async def test_loadbalancer_local_policy_keeps_the_client_address(shop):
    trace, netdev = await lb_trace(shop, "local", want_remote=False)
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src == A("203.0.113.100")
    assert "[LoadBalancer, Local, two-scopes]" in netdev.map_entry
    reply = shop.network.reply(trace)
    revnat = programs(reply, "cil_from_container")[0]
    assert revnat.packet_after.src == A(shop.find_service("shop-local")
                                        .status.load_balancer_ips[0])
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"


async def test_the_agent_follows_scaling_and_deletion_one_service_at_a_time(cilium):
    await cilium.add_deployment("api", web("api"), replicas=1)
    await cilium.add_service("api", [ServicePort(80, "http", name="http")],
                             selector={"app": "api"})
    ip = cilium.find_service("api").spec.cluster_ip

    def slots():
        listing = cilium_view(cilium, "node/kind-worker", ["bpf", "lb", "list"]).splitlines()
        start = next(i for i, line in enumerate(listing) if line.startswith(f"{ip}:80/TCP"))
        return [line for line in listing[start + 1:] if line.startswith(" ")][:3]

    assert len(slots()) == 1
    await cilium.scale("api", 3)
    assert len(slots()) == 3
    await cilium.delete_service("api")
    assert ip not in cilium_view(cilium, "node/kind-worker", ["service", "list"])


async def test_a_node_removed_and_added_again_gets_fresh_programs_and_routes(cilium):
    await cilium.remove_node("kind-worker2")
    assert "10.244.2.0/24" not in cilium.node_namespace("kind-worker").ip_route()
    await cilium.add_node("kind-worker2", internal_ip="172.18.0.3", pod_cidr="10.244.2.0/24")
    ns = cilium.node_namespace("kind-worker2")
    assert cilium.cni.datapaths[ns.name].ns is ns
    assert ns.device("eth0").tc["ingress"].name == "cil_from_netdev"
    assert "10.244.2.0/24 via 172.18.0.3 dev eth0" in \
        cilium.node_namespace("kind-worker").ip_route()
    lb = cilium_view(cilium, ns.name, ["bpf", "lb", "list"])
    assert f"{cilium.find_service('web').spec.cluster_ip}:80/TCP" in lb


async def test_pods_reach_a_local_policy_lb_through_its_internal_scope(shop):
    """The shop pod runs on one node only; a pod elsewhere still gets it: in-cluster
    traffic uses the frontend's /i twin, which lists every backend."""
    shop_node = shop.find_pod(shop.owned_pods(shop.deployments_list()[0])[0].name).spec \
        .node_name
    client_node = next(n.name for n in shop.nodes() if n.name != shop_node and
                       n.name != "kind-control-plane")
    await shop.add_pod("probe", web("probe"), node_name=client_node)
    lb_ip = shop.find_service("shop-local").status.load_balancer_ips[0]
    trace = send(shop, "pod/probe", "lb/shop-local")
    assert trace.verdict == "delivered"
    assert f"{lb_ip}:80/TCP/i → 0.0.0.0:0" in trace.hops[0].map_entry
    outside = cilium_view(shop, f"node/{client_node}", ["bpf", "lb", "list"]).splitlines()
    external = next(i for i, line in enumerate(outside) if line.startswith(f"{lb_ip}:80/TCP "))
    assert "[LoadBalancer, Local, two-scopes]" in outside[external]
    assert not outside[external + 1].startswith(" "), "no backend on this node for outsiders"


async def test_session_affinity_sends_a_client_back_to_its_backend(cilium):
    await cilium.update_service("web", session_affinity="ClientIP")
    lb = cilium_view(cilium, "node/kind-worker", ["bpf", "lb", "list"])
    assert "[ClusterIP, sessionAffinity, non-routable]" in lb
    traces = [send(cilium, "pod/client", "svc/web") for _ in range(8)]
    assert len({t.delivered_to.namespace for t in traces}) == 1
    assert "remembered for netns pod/default/client" in traces[0].hops[0].detail
    assert "cilium_lb4_affinity sends netns pod/default/client back" in traces[1].hops[0].detail
    others = {send(cilium, "pod/web-1", "svc/web").delivered_to.namespace for _ in range(8)}
    assert len(others) == 1, "each client sticks to its own backend"
