"""Seed section 3.4: egress to the internet, NodePort, LoadBalancer with both policies."""

from ipaddress import IPv4Address

from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

A = IPv4Address


def rewrites(trace):
    return [(h.where, h.packet_before, h.packet_after) for h in trace.hops
            if h.role == "packet" and h.rewrote and h.event in ("netfilter", "nat")]


def test_egress_is_masqueraded_twice_and_the_reply_comes_home(lab):
    trace = send(lab, "pod/client", "internet")
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "internet"
    steps = rewrites(trace)
    assert [where for where, _, _ in steps] == ["node/kind-worker", "vpc-gateway"]
    assert steps[0][2].src == A("172.18.0.2"), "the node's masquerade"
    public = lab.api.get("Node", "", "kind-worker").status.external_ip
    assert steps[1][2].src == A(public), "the gateway's translation to the public IP"
    assert trace.delivered_packet.src == A(public)
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    assert reply.delivered_packet.src == A("203.0.113.100")
    assert reply.delivered_packet.dst == A("10.244.1.2")


async def test_nodeport_from_the_internet(lab):
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort")
    public = lab.api.get("Node", "", "kind-worker").status.external_ip
    trace = send(lab, "internet", public, port=30080)
    assert trace.verdict == "delivered"
    assert trace.delivered_to.namespace in ("pod/default/web-1", "pod/default/web-2")
    chains = [h.chain for h in trace.hops if h.event == "netfilter" and h.table == "nat"]
    assert any(c.startswith("KUBE-SEP-") for c in chains)
    # externalTrafficPolicy Cluster: the pod sees a node's address, not the client's
    assert trace.delivered_packet.src in (A("172.18.0.2"), A("10.244.1.1"))
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    assert reply.delivered_packet.src == A(public)
    assert reply.delivered_packet.sport == 30080


async def test_load_balancer_cluster_policy_hides_the_client(lab):
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    service = lab.find_service("shop")
    assert service.status.load_balancer_ips == ["198.51.100.10"]
    trace = send(lab, "internet", "lb/shop")
    assert trace.verdict == "delivered"
    assert "cloud-lb" in trace.path()
    assert trace.delivered_packet.src != A("203.0.113.100")
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    assert reply.delivered_packet.src == A("198.51.100.10")


async def test_load_balancer_local_policy_keeps_the_client_ip(lab):
    await lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await lab.add_service("solo", [ServicePort(80, "http", name="http")], selector={"app": "solo"},
                          type="LoadBalancer", external_traffic_policy="Local")
    solo = next(p for p in lab.pods() if p.name.startswith("solo-"))
    routes = lab.network.namespace("cloud-lb").ip_route()
    node_ip = str(lab.node_ips[solo.spec.node_name])
    assert f"nexthop via {node_ip} dev eth0 weight 1" in routes
    assert routes.count("nexthop") == 1, "only the node with a local endpoint is a target"
    for _ in range(5):
        trace = send(lab, "internet", "lb/solo")
        assert trace.verdict == "delivered"
        assert trace.delivered_packet.src == A("203.0.113.100")
        assert lab.network.reply(trace).verdict == "delivered"


async def test_local_policy_node_without_endpoint_drops_nodeport_traffic(lab):
    await lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await lab.add_service("solo", [ServicePort(80, "http", name="http", node_port=31000)],
                          selector={"app": "solo"}, type="NodePort",
                          external_traffic_policy="Local")
    solo = next(p for p in lab.pods() if p.name.startswith("solo-"))
    other = "kind-worker2" if solo.spec.node_name == "kind-worker" else "kind-worker"
    public = lab.api.get("Node", "", other).status.external_ip
    trace = send(lab, "internet", public, port=31000)
    assert trace.verdict == "dropped"
    assert "has no local endpoints" in next(h.rule for h in trace.hops
                                            if h.rule and "DROP" in h.rule)


async def test_load_balancer_source_ranges_let_only_allowed_clients_in(lab):
    await lab.add_service("admin", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          load_balancer_source_ranges=["192.0.2.0/24"])
    trace = send(lab, "internet", "lb/admin")
    assert trace.verdict == "dropped"
    drop = next(h for h in trace.hops if h.rule and h.rule.endswith("-j DROP"))
    assert drop.chain == "KUBE-PROXY-FIREWALL" and "not accepted by KUBE-FW-" in drop.rule
    await lab.delete_service("admin")
    await lab.add_service("admin", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          load_balancer_source_ranges=["203.0.113.0/24"])
    assert send(lab, "internet", "lb/admin").verdict == "delivered"


async def test_a_requested_load_balancer_ip_is_honoured_once(lab):
    import pytest

    from playground.cluster.cluster import ClusterError

    await lab.add_service("fixed", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          load_balancer_ip="198.51.100.77")
    assert lab.find_service("fixed").status.load_balancer_ips == ["198.51.100.77"]
    assert send(lab, "internet", "198.51.100.77").verdict == "delivered"
    # the API server takes both; the cloud gives neither an address (tests/lb: the Events)
    await lab.add_service("again", [ServicePort(80, name="http")], type="LoadBalancer",
                          load_balancer_ip="198.51.100.77")
    await lab.add_service("far", [ServicePort(80, name="http")], type="LoadBalancer",
                          load_balancer_ip="8.8.8.8")
    for name in ("again", "far"):
        assert lab.find_service(name).status.load_balancer_ips == []
    with pytest.raises(ClusterError, match="is not an IPv4 address"):
        await lab.add_service("bad", [ServicePort(80, name="http")], type="LoadBalancer",
                              load_balancer_ip="not-an-ip")


def un_nat_hops(trace):
    return [h for h in trace.hops if h.role == "packet" and h.event == "nat"]


def test_the_reply_from_a_service_pod_is_un_nated_to_the_service_address(lab):
    service_ip = lab.api.get("Service", "default", "web").spec.cluster_ip
    trace = send(lab, "pod/client", "svc/web")
    reply = lab.network.reply(trace)
    (hop,) = un_nat_hops(reply)
    assert hop.packet_before.src == trace.delivered_packet.dst, "the pod's own address arrives"
    assert hop.packet_after.src == A(service_ip), "and leaves as the Service's"
    assert reply.delivered_packet.src == A(service_ip)


def test_the_egress_reply_shows_both_un_nat_rewrites(lab):
    trace = send(lab, "pod/client", "internet")
    reply = lab.network.reply(trace)
    public = A(lab.api.get("Node", "", "kind-worker").status.external_ip)
    pairs = [(h.where, h.packet_before.dst, h.packet_after.dst) for h in un_nat_hops(reply)]
    assert pairs == [("vpc-gateway", public, A("172.18.0.2")),
                     ("node/kind-worker", A("172.18.0.2"), A("10.244.1.2"))]
