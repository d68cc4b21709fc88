"""Scenario tests over the default lab: every assertion is about a computed trace."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort


def test_default_lab_places_pods_as_documented(lab):
    placed = {p.name: (p.spec.node_name, p.status.pod_ip) for p in lab.pods("default")}
    assert placed == {
        "client": ("kind-worker", "10.244.1.2"),
        "web-2": ("kind-worker", "10.244.1.3"),
        "web-1": ("kind-worker2", "10.244.2.2"),
        "app": ("kind-worker2", "10.244.2.3"),
    }
    coredns = [p.spec.node_name for p in lab.pods("kube-system")]
    assert coredns == ["kind-control-plane"] * 2


def test_pod_to_pod_on_one_node_crosses_the_bridge(lab):
    trace = send(lab, "pod/client", "pod/web-2")
    assert trace.verdict == "delivered"
    assert trace.delivered_to.namespace == "pod/default/web-2"
    assert trace.delivered_to.owner == "web"
    assert trace.path() == ["pod/default/client", "node/kind-worker", "pod/default/web-2"]
    bridge = trace.events("bridge")
    assert len(bridge) == 1
    assert bridge[0].dev_in.startswith("veth") and bridge[0].dev_out.startswith("veth")
    assert "cni0" in bridge[0].detail
    assert not trace.events("forward")


def test_pod_to_pod_across_nodes_uses_the_node_route(lab):
    trace = send(lab, "pod/client", "pod/web-1")
    assert trace.verdict == "delivered"
    assert trace.path() == ["pod/default/client", "node/kind-worker", "node/kind-worker2",
                            "pod/default/web-1"]
    forward = trace.events("forward")
    assert forward[0].where == "node/kind-worker"
    assert forward[0].route == "10.244.2.0/24 via 172.18.0.3 dev eth0"
    assert forward[1].where == "node/kind-worker2"
    assert forward[1].route == "10.244.2.0/24 dev cni0 proto kernel scope link src 10.244.2.1"
    assert trace.delivered_packet.ttl == 62
    assert trace.delivered_packet.src == IPv4Address("10.244.1.2"), "no NAT between pods"


def test_reply_goes_back_the_same_way(lab):
    trace = send(lab, "pod/client", "pod/web-1")
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered"
    assert reply.delivered_to.namespace == "pod/default/client"
    assert reply.path() == ["pod/default/web-1", "node/kind-worker2", "node/kind-worker",
                            "pod/default/client"]


@pytest.mark.dataplanes("ptp")
def test_ptp_across_nodes_uses_host_routes(dataplane_lab):
    trace = send(dataplane_lab, "pod/client", "pod/web-1")
    assert trace.verdict == "delivered"
    last = trace.events("forward")[-1]
    assert last.where == "node/kind-worker2"
    assert last.route.startswith("10.244.2.2 dev veth") and last.route.endswith("scope host")
    assert not trace.events("bridge")


@pytest.mark.dataplanes("ptp")
def test_ptp_same_node_is_routed_not_bridged(dataplane_lab):
    trace = send(dataplane_lab, "pod/client", "pod/web-2")
    assert trace.verdict == "delivered"
    assert [h.where for h in trace.events("forward")] == ["node/kind-worker"]


def test_containers_of_a_pod_talk_over_localhost(lab):
    trace = send(lab, "pod/app:sidecar", "127.0.0.1", port=8080)
    assert trace.verdict == "delivered"
    assert trace.delivered_to.owner == "app"
    assert set(trace.path()) == {"pod/default/app"}
    assert trace.events("xmit")[0].dev_out == "lo"


def test_no_listener_on_a_pod_port_is_reset(lab):
    trace = send(lab, "pod/client", "pod/web-1", port=81)
    assert trace.verdict == "rejected"
    resets = [h for h in trace.hops if h.role == "reset" and h.event == "deliver"]
    assert resets and resets[-1].where == "pod/default/client"


def test_udp_to_a_closed_port_gets_icmp_port_unreachable(lab):
    trace = send(lab, "pod/client", "pod/web-1", proto="udp", port=9999)
    assert trace.verdict == "rejected"
    errors = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert errors and errors[-1].packet_before.icmp_code == 3


def test_pod_cidr_of_a_missing_node_is_unreachable(lab):
    trace = send(lab, "pod/client", "10.244.9.9")
    # the node sends it to its default gateway, which has nowhere to go
    assert trace.verdict == "unreachable"
    assert "vpc-gateway" in trace.reason


async def test_two_containers_of_one_pod_cannot_share_a_port(lab):
    containers = [Container("a", ports=[ContainerPort(80)]),
                  Container("b", ports=[ContainerPort(80)])]
    with pytest.raises(ClusterError, match="both listen on TCP port 80"):
        await lab.add_pod("clash", containers)
    assert "clash" not in [p.name for p in lab.pods()]


async def test_two_pods_may_both_listen_on_port_80(lab):
    for name in ("one", "two"):
        await lab.add_pod(name, [Container("web", ports=[ContainerPort(80)])])
    for name in ("one", "two"):
        assert send(lab, "pod/client", f"pod/{name}").verdict == "delivered"


async def test_pool_exhaustion_is_a_clear_error_and_changes_nothing():
    from playground.cluster.cluster import Cluster

    cluster = Cluster(node_cidr_mask=30)  # a /30 has room for one pod (.2)
    await cluster.start()
    await cluster.add_node("n1")
    await cluster.add_pod("first", [Container("c")])
    with pytest.raises(ClusterError, match="no IP addresses available"):
        await cluster.add_pod("second", [Container("c")])
    assert [p.name for p in cluster.pods()] == ["first"]
    assert "pod/default/second" not in cluster.network.namespaces
    await cluster.stop()


async def test_node_cidr_exhaustion(lab):
    from playground.cluster.cluster import Cluster

    cluster = Cluster(node_cidr_mask=17)  # two /17s in 10.244.0.0/16
    await cluster.start()
    await cluster.add_node("a")
    await cluster.add_node("b")
    with pytest.raises(ClusterError, match="no pod CIDR left"):
        await cluster.add_node("c")
    assert [n.name for n in cluster.nodes()] == ["a", "b"]
    await cluster.stop()


async def test_deleting_a_pod_removes_its_wiring(lab):
    node = lab.node_namespace("kind-worker")
    before = set(node.devices)
    await lab.delete_pod("web-2")
    assert len(set(node.devices)) == len(before) - 1
    assert "pod/default/web-2" not in lab.network.namespaces
    assert send(lab, "pod/client", "10.244.1.3").verdict in ("unreachable", "dropped")


async def test_invalid_names_are_refused(lab):
    with pytest.raises(ClusterError, match='The Pod "Bad_Name" is invalid: metadata.name'):
        await lab.add_pod("Bad_Name", [Container("c")])


def test_unknown_pod_is_a_clear_error(lab):
    with pytest.raises(ClusterError, match='pod "nope" not found'):
        send(lab, "pod/nope", "pod/web-1")


async def test_a_pod_can_ask_for_its_address(lab):
    annotation = {"cni.projectcalico.org/ipAddrs": '["10.244.2.77"]'}
    pod = await lab.add_pod("pinned", [Container("c")], annotations=annotation,
                            node_name="kind-worker2")
    assert pod.status.pod_ip == "10.244.2.77"
    with pytest.raises(ClusterError, match="must be a JSON list with one IPv4 address"):
        await lab.add_pod("wrong", [Container("c")],
                          annotations={"cni.projectcalico.org/ipAddrs": "10.244.2.78"})
    with pytest.raises(ClusterError, match="already allocated"):
        await lab.add_pod("twin", [Container("c")], annotations=annotation,
                          node_name="kind-worker2")
