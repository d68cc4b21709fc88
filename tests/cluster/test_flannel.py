"""flanneld's vxlan backend: each node publishes its endpoint on its Node, every other node
derives its route, neighbour and forwarding entries from those annotations."""

import json
from ipaddress import IPv4Address, IPv4Network

import pytest

from playground.cluster.controllers.flannel import BACKEND_DATA, PUBLIC_IP
from playground.cluster.legs import send
from playground.cluster.objects import Container
from playground.net.iplink import bridge_fdb_show, ip_neigh_show

A = IPv4Address


def vtep(lab, node):
    return lab.node_namespace(node).device("flannel.1")


@pytest.mark.dataplanes("vxlan")
async def test_each_node_publishes_its_endpoint_in_flannels_annotations(dataplane_lab):
    node = dataplane_lab.api.get("Node", "", "kind-worker")
    notes = node.metadata.annotations
    assert json.loads(notes[BACKEND_DATA]) == {"VNI": 1, "VtepMAC": vtep(dataplane_lab,
                                                                         "kind-worker").mac}
    assert notes[PUBLIC_IP] == "172.18.0.2"
    assert notes["flannel.alpha.coreos.com/backend-type"] == "vxlan"
    device = vtep(dataplane_lab, "kind-worker")
    assert (device.vni, device.local, device.dstport, device.learning, device.mtu) == (
        1, A("172.18.0.2"), 8472, False, 1450)
    assert dataplane_lab.node_namespace("kind-worker").primary_address("flannel.1") == \
        A("10.244.1.0")


@pytest.mark.dataplanes("vxlan")
async def test_routes_neighbours_and_fdb_entries_follow_the_other_nodes(dataplane_lab):
    ns = dataplane_lab.node_namespace("kind-worker")
    routes = ns.ip_route()
    assert "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink\n" in routes
    assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n" in routes
    assert "10.244.1.0/24 via" not in routes, "no tunnel route to its own pods"
    mac2 = vtep(dataplane_lab, "kind-worker2").mac
    assert f"10.244.2.0 dev flannel.1 lladdr {mac2} PERMANENT \n" in ip_neigh_show(ns)
    assert f"{mac2} dst 172.18.0.3 self permanent\n" in bridge_fdb_show(ns, "flannel.1")


@pytest.mark.dataplanes("vxlan")
async def test_a_node_that_joins_or_leaves_updates_every_other_node(dataplane_lab):
    await dataplane_lab.add_node("kind-worker3")
    new = dataplane_lab.api.get("Node", "", "kind-worker3")
    mac = vtep(dataplane_lab, "kind-worker3").mac
    subnet = IPv4Network(new.spec.pod_cidr)
    for name in ("kind-control-plane", "kind-worker", "kind-worker2"):
        ns = dataplane_lab.node_namespace(name)
        assert f"{subnet} via {subnet.network_address} dev flannel.1 onlink" in ns.ip_route()
        assert ns.device("flannel.1").fdb[mac] == A(new.status.internal_ip)
    joined = dataplane_lab.node_namespace("kind-worker3")
    assert len(joined.device("flannel.1").fdb) == 3, "it learns the nodes already there"
    await dataplane_lab.add_pod("late", [Container("late")], node_name="kind-worker3")
    assert send(dataplane_lab, "pod/client", "pod/late", "icmp").verdict == "delivered"
    await dataplane_lab.remove_node("kind-worker3")
    for name in ("kind-control-plane", "kind-worker", "kind-worker2"):
        ns = dataplane_lab.node_namespace(name)
        assert str(subnet) not in ns.ip_route()
        assert mac not in ns.device("flannel.1").fdb
        assert subnet.network_address not in ns.neighbours


@pytest.mark.dataplanes("vxlan")
async def test_a_hand_edited_annotation_is_put_back_and_the_entries_follow(dataplane_lab):
    node = dataplane_lab.api.get("Node", "", "kind-control-plane")
    node.metadata.annotations[PUBLIC_IP] = "172.18.0.77"
    dataplane_lab.api.update(node)
    await dataplane_lab.settle()
    assert dataplane_lab.api.get("Node", "", "kind-control-plane").metadata.annotations[
        PUBLIC_IP] == "172.18.0.4", "the node's own flanneld owns its annotations"
    fdb = vtep(dataplane_lab, "kind-worker").fdb
    assert fdb == {vtep(dataplane_lab, "kind-control-plane").mac: A("172.18.0.4"),
                   vtep(dataplane_lab, "kind-worker2").mac: A("172.18.0.3")}


@pytest.mark.dataplanes("vxlan")
async def test_pod_to_pod_across_nodes_goes_through_the_tunnel_and_back(dataplane_lab):
    trace = send(dataplane_lab, "pod/client", "pod/web-1")
    assert trace.verdict == "delivered"
    assert [(h.where, h.event) for h in trace.hops if h.event.endswith("capsulate")] == [
        ("node/kind-worker", "encapsulate"), ("node/kind-worker2", "decapsulate")]
    assert trace.delivered_packet.src == A("10.244.1.2"), "pods see pods, no masquerade"
    reply = dataplane_lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.events("encapsulate")[0].where == \
        "node/kind-worker2"


@pytest.mark.dataplanes("vxlan")
async def test_a_packet_over_the_tunnel_mtu_with_df_gets_fragmentation_needed(dataplane_lab):
    from playground.cluster.service import ServicePort

    await dataplane_lab.add_service("shop", [ServicePort(80, "http", name="http")],
                                selector={"app": "web"}, type="LoadBalancer")
    trace = send(dataplane_lab, "internet", "lb/shop", size=1500, df=True)
    assert trace.verdict == "dropped" and "fragmentation needed" in trace.reason
    home = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert home and home[0].where == "internet"
    error = home[0].packet_before
    assert "need to frag (mtu 1450)" in error.summary()
    lb_ip = A(dataplane_lab.find_service("shop").status.load_balancer_ips[0])
    assert error.src == lb_ip and error.inner.dst == lb_ip, \
        "conntrack treats the error as RELATED and undoes the DNAT in it"
    assert any(h.role == "error" and h.event == "nat" for h in trace.hops)
    assert send(dataplane_lab, "internet", "lb/shop", size=1450, df=True).verdict == "delivered"


@pytest.mark.dataplanes("vxlan")
async def test_an_annotation_that_is_not_a_lease_is_ignored(dataplane_lab):
    from playground.cluster.controllers.flannel import lease_of

    node = dataplane_lab.api.get("Node", "", "kind-worker2")
    for bad in ('{"VNI":1,"VtepMAC":5}', "not json", '{"VNI":1,"VtepMAC":"zz:zz"}', "[]"):
        node.metadata.annotations[BACKEND_DATA] = bad
        assert lease_of(node) is None, bad
