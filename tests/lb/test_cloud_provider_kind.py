"""cloud-provider-kind: an Envoy container per LoadBalancer Service on the kind network,
ipMode Proxy, listeners per port, every node's NodePort behind health checks."""

import hashlib
import json
from types import SimpleNamespace

import pytest

from playground.cli import do_trace
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.lab import NODES, web
from playground.cluster.legs import TraceRequest, legs
from playground.cluster.service import ServicePort
from playground.cluster.tables import services_table
from playground.lb import ring_hash
from playground.lb.cloud_provider_kind import container_name


@pytest.fixture(params=["iptables"])
async def kind(request):
    cluster = Cluster(lb="cloud-provider-kind", proxy_mode=request.param)
    await cluster.start()
    for name, control_plane, ip, cidr in NODES:
        await cluster.add_node(name, control_plane=control_plane, internal_ip=ip,
                               pod_cidr=cidr)
    await cluster.add_pod("web-1", web(), labels={"app": "web"}, node_name="kind-worker")
    await cluster.add_pod("client", web("client"), node_name="kind-worker2")
    yield cluster
    await cluster.stop()


async def shop(cluster, **spec):
    await cluster.add_service("shop", [ServicePort(80, 80, name="http")],
                              selector={"app": "web"}, type="LoadBalancer", **spec)
    return cluster.api.peek("Service", "default", "shop")


def test_the_container_is_named_as_cloud_provider_kind_names_it():
    digest = hashlib.sha256(b"kind/default/shop").hexdigest()[:12]
    assert container_name("default", "shop") == f"kindccm-{digest}"


def test_xxhash64_gives_the_reference_values():
    assert ring_hash.xxhash64(b"") == 0xEF46DB3751D8E999
    assert ring_hash.xxhash64(b"abc") == 0x44BC2CF5AD770999
    assert ring_hash.xxhash64(b"Nobody inspects the spammish repetition") == \
        0xFBCEA83C8A378BF1


async def test_the_lb_ip_is_the_envoys_address_on_the_kind_network(kind):
    service = await shop(kind)
    assert service.status.load_balancer_ips == ["172.18.0.5"]   # after the three nodes
    assert service.status.load_balancer_ip_mode == "Proxy"
    envoy = kind.network.namespace(container_name("default", "shop"))
    assert [str(a.interface) for a in envoy.addresses if a.dev == "eth0"] == ["172.18.0.5/16"]
    assert sorted((s.proto, s.port) for s in envoy.sockets) == [("tcp", 80), ("tcp", 10000)]
    assert "172.18.0.5" in services_table(kind, "default").splitlines()[-1]
    node_rules = kind.network.namespace("node/kind-worker").netfilter.save(["nat"])
    assert "172.18.0.5" not in node_rules   # ipMode Proxy: no shortcut in the cluster
    later = await kind.add_node("kind-worker3")
    assert later.status.internal_ip == "172.18.0.6"   # the Envoy's address is taken


async def test_from_outside_and_inside_the_envoy_opens_its_own_connection(kind):
    await shop(kind)
    for source in ("internet", "pod/default/client"):
        found = legs(kind, TraceRequest(source, "lb/shop"))
        first, onward = found
        assert first.trace.delivered_to.owner == "envoy"
        assert onward.role == "proxied" and "RANDOM among 2 healthy" in onward.why
        packet = onward.trace.packet
        assert str(packet.src) == "172.18.0.5" and packet.dport == \
            kind.api.peek("Service", "default", "shop").spec.ports[0].node_port
        assert onward.trace.delivered_to.namespace == "pod/default/web-1"


@pytest.mark.parametrize("kind", ["iptables", "nftables", "ipvs"], indirect=True)
async def test_with_local_policy_only_the_node_with_an_endpoint_passes_its_check(kind):
    service = await shop(kind, external_traffic_policy="Local")
    check = service.spec.health_check_node_port
    for _ in range(4):
        _, onward = legs(kind, TraceRequest("internet", "lb/shop"))
        assert f"GET /healthz on :{check}: kind-worker 200, " \
               "kind-worker2 503" in onward.why
        assert str(onward.trace.packet.dst) == "172.18.0.2"   # kind-worker
        # no masquerade with Local: the pod sees the Envoy's address, never the client's
        assert str(onward.trace.delivered_packet.src) == "172.18.0.5"
    await kind.delete_pod("web-1")
    with pytest.raises(ClusterError, match="closes the connection: no healthy upstream"):
        legs(kind, TraceRequest("internet", "lb/shop"))


async def test_client_ip_affinity_is_a_ring_hash_on_the_source(kind):
    service = await shop(kind, session_affinity="ClientIP")
    port = service.spec.ports[0].node_port
    hosts = [f"172.18.0.{n}:{port}" for n in (4, 2, 3)]   # by node name
    wanted = ring_hash.choose(ring_hash.ring(hosts), "203.0.113.100")
    for _ in range(3):
        _, onward = legs(kind, TraceRequest("internet", "lb/shop"))
        assert "RING_HASH on source 203.0.113.100" in onward.why
        assert f"{onward.trace.packet.dst}:{port}" == wanted


async def test_a_chosen_address_in_use_leaves_the_service_pending(kind):
    service = await shop(kind, load_balancer_ip="172.18.0.200")
    assert service.status.load_balancer_ips == ["172.18.0.200"]
    await kind.add_service("taken", [ServicePort(80, 80)], selector={"app": "web"},
                           type="LoadBalancer", load_balancer_ip="172.18.0.2")
    taken = kind.api.peek("Service", "default", "taken")
    assert taken.status.load_balancer_ips == []
    assert "<pending>" in services_table(kind, "default")
    assert any("SyncLoadBalancerFailed" in line and "Address already in use" in line
               for line in kind.api.events.lines())


async def test_the_container_goes_with_its_service(kind):
    await shop(kind)
    name = container_name("default", "shop")
    await kind.delete_service("shop")
    assert kind.network.find(name) is None


async def test_a_source_outside_the_ranges_finds_no_filter_chain(kind):
    await shop(kind, load_balancer_source_ranges=["198.51.100.0/24"])
    with pytest.raises(ClusterError, match="no filter chain matches source 203.0.113.100"):
        legs(kind, TraceRequest("internet", "lb/shop"))


async def test_a_service_gets_its_container_back_at_the_address_it_had(kind):
    await shop(kind)
    await kind.add_service("other", [ServicePort(81, 81)], selector={"app": "web"},
                           type="LoadBalancer")
    assert kind.api.peek("Service", "default", "other").status.load_balancer_ips == \
        ["172.18.0.6"]
    for key in ("default/shop", "default/other"):   # as a loaded lab's controller starts
        kind.lb.controller._delete(key)
    kind.api.change("Service", "default", "other", lambda current: None)
    await kind.settle()
    other = kind.api.peek("Service", "default", "other")
    assert other.status.load_balancer_ips == ["172.18.0.6"]   # not the lowest free, .5
    assert kind.network.find(container_name("default", "other")) is not None


async def test_trace_prints_the_envoys_leg_and_json_holds_it(kind, capsys):
    await shop(kind)
    args = SimpleNamespace(src="internet", dst="lb/shop", proto="tcp", port=None,
                           namespace=None, size=None, df=False, reply=False, host="",
                           path="/", pcap=None, json=False)
    assert do_trace(kind, args) == 0
    out = capsys.readouterr().out
    assert "\nthe Envoy kindccm-" in out and "ends the connection and opens its own" in out
    assert "ingress controller" not in out
    assert do_trace(kind, SimpleNamespace(**{**args.__dict__, "json": True})) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["load_balancer_proxy"]["trace"]["source"].startswith("kindccm-")
    assert "proxied" not in data
