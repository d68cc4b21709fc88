"""Two traces of one packet lined up hop against hop (bridge on the left, ptp on the right)."""

from ipaddress import IPv4Address

import pytest

from playground.cluster.legs import send
from playground.cluster.service import ServicePort
from playground.net.align import (
    DIFFERS,
    ONLY_LEFT,
    ONLY_RIGHT,
    SAME,
    align,
    differences,
    outcome,
    rewrite,
    stage,
)
from playground.net.packet import tcp_syn
from playground.net.trace import Hop, Trace


def each_hop_once_in_order(rows, left, right):
    assert [r.left for r in rows if r.left] == left.hops
    assert [r.right for r in rows if r.right] == right.hops


@pytest.mark.dataplanes("ptp")
def test_same_node_bridge_switches_where_ptp_routes(lab, dataplane_lab):
    bridge = send(lab, "pod/client", "pod/web-2")
    ptp = send(dataplane_lab, "pod/client", "pod/web-2")
    rows = align(bridge, ptp)
    each_hop_once_in_order(rows, bridge, ptp)
    switched = next(r for r in rows if r.left and r.left.event == "bridge")
    assert switched.right is not None and switched.right.event == "recv"
    assert switched.right.where == switched.left.where == "node/kind-worker"
    assert switched.status == DIFFERS and {"event", "device"} <= set(switched.differs)
    only_ptp = [(r.right.where, r.right.event) for r in rows if r.status == ONLY_RIGHT]
    # forwarded, so kube-network-policies' postrouting chain sees it (and accepts)
    assert only_ptp == [("node/kind-worker", "forward"), ("node/kind-worker", "nftables"),
                        ("node/kind-worker", "xmit")]
    assert not any(r.status == ONLY_LEFT for r in rows)
    assert [r.status for r in rows[-3:]] == [SAME] * 3
    assert rows[-1].left.event == "deliver"
    first = rows[0]
    assert first.status == DIFFERS and "route" in first.differs


@pytest.mark.dataplanes("ptp")
def test_service_dnat_is_the_same_rule_on_both(lab, dataplane_lab):
    bridge, ptp = send(lab, "pod/client", "svc/web"), send(dataplane_lab, "pod/client", "svc/web")
    assert bridge.packet == ptp.packet
    rows = align(bridge, ptp)
    each_hop_once_in_order(rows, bridge, ptp)
    dnat = [r for r in rows if r.paired and r.left.rewrote and r.left.table == "nat"]
    assert len(dnat) == 1 and stage(dnat[0].left) == "nat PREROUTING"
    assert "rule" not in dnat[0].differs and "rewrite" not in dnat[0].differs
    assert dnat[0].differs == ("device",), "cni0 on the bridge, the pod's veth with ptp"
    assert bridge.delivered_to == ptp.delivered_to
    assert rows[-1].status == SAME


@pytest.mark.dataplanes("ptp")
async def test_load_balancer_from_the_internet(lab, dataplane_lab):
    traces = []
    for cluster in (lab, dataplane_lab):
        await cluster.add_service("shop", [ServicePort(80, "http", name="http")],
                                  selector={"app": "web"}, type="LoadBalancer")
        traces.append(send(cluster, "internet", "lb/shop"))
    rows = align(*traces)
    each_hop_once_in_order(rows, *traces)
    assert traces[0].verdict == traces[1].verdict == "delivered"
    outside = [r for r in rows if r.paired and r.left.where in ("internet", "cloud-lb")]
    assert outside and all(r.status == SAME for r in outside), "the cloud does not change"
    assert any(r.status != SAME for r in rows), "inside the node it does"


def test_a_trace_against_itself_is_the_same_everywhere(lab):
    trace = send(lab, "pod/client", "pod/web-1")
    rows = align(trace, trace)
    assert [r.status for r in rows] == [SAME] * len(trace.hops)


@pytest.mark.dataplanes("ptp")
def test_alignment_is_deterministic(lab, dataplane_lab):
    bridge, ptp = send(lab, "pod/client", "svc/web"), send(dataplane_lab, "pod/client", "svc/web")
    assert align(bridge, ptp) == align(bridge, ptp)


def hop(where, event, detail="", before=None, after=None, **fields):
    packet = tcp_syn("10.0.0.1", "10.0.0.2", 40000, 80)
    return Hop(0, where, event, detail, before or packet, after or before or packet, **fields)


def test_gaps_and_pairs_between_common_steps():
    start, end = hop("a", "route"), hop("c", "deliver")
    left = Trace("a", start.packet_before, [start, hop("b", "bridge"), hop("x", "recv"), end])
    right = Trace("a", start.packet_before, [start, hop("b", "recv", dev_in="veth1"),
                                             hop("b", "forward"), hop("y", "recv"), end])
    rows = align(left, right)
    assert [(r.status, r.left and r.left.where, r.right and r.right.where) for r in rows] == [
        (SAME, "a", "a"),
        (DIFFERS, "b", "b"),
        (ONLY_LEFT, "x", None),
        (ONLY_RIGHT, None, "b"),
        (ONLY_RIGHT, None, "y"),
        (SAME, "c", "c"),
    ]
    assert rows[1].differs == ("event", "device")


def test_a_rewrite_is_compared_by_what_it_changed():
    packet = tcp_syn("10.0.0.1", "10.96.0.5", 40000, 80)
    to_one = packet.with_(dst=IPv4Address("10.244.1.3"))
    to_two = packet.with_(dst=IPv4Address("10.244.2.2"))
    one = hop("n", "netfilter", "nat PREROUTING: rule 1 → DNAT", packet, to_one, table="nat")
    two = hop("n", "netfilter", "nat PREROUTING: rule 1 → DNAT", packet, to_two, table="nat")
    assert rewrite(one) == (("dst", IPv4Address("10.244.1.3")),)
    assert differences(one, two) == ("rewrite",)
    assert stage(one) == "nat PREROUTING" and stage(hop("n", "route", "nat x")) == ""


def test_outcome_says_where_it_ended(lab):
    assert outcome(send(lab, "pod/client", "pod/web-1")).startswith(
        "delivered to web in pod/default/web-1 after ")
    refused = send(lab, "pod/client", "pod/web-1", port=81)
    assert outcome(refused).startswith("rejected after ")


async def test_across_nodes_the_overlay_wraps_and_unwraps(lab):
    from playground.cluster.lab import build_default_lab

    vxlan = await build_default_lab(cni="vxlan")
    try:
        bridge, overlay = send(lab, "pod/client", "pod/web-1"), send(vxlan, "pod/client",
                                                                      "pod/web-1")
        rows = align(bridge, overlay)
        each_hop_once_in_order(rows, bridge, overlay)
        only = [(r.right.where, r.right.event) for r in rows if r.status == ONLY_RIGHT]
        assert ("node/kind-worker", "encapsulate") in only
        assert ("node/kind-worker2", "decapsulate") in only
        assert not any(r.status == ONLY_LEFT for r in rows)
        assert rows[-1].status == SAME and rows[-1].left.event == "deliver"
    finally:
        await vxlan.stop()


def test_a_differing_rule_is_shown_with_the_jumps_to_it():
    from playground.net.align import Row
    from playground.net.align_text import extras

    policy = "-P FORWARD ACCEPT"
    one = hop("n", "netfilter", "filter FORWARD: the FORWARD policy → ACCEPT", table="filter",
              rule=policy, matched_rules=["-A FORWARD -j KUBE-FORWARD", policy])
    two = hop("n", "netfilter", "filter FORWARD: the FORWARD policy → ACCEPT", table="filter",
              rule=policy, matched_rules=[policy])
    row = Row(one, two, DIFFERS, differences(one, two))
    assert row.differs == ("rule",)
    assert extras(one, row) == ["via:   -A FORWARD -j KUBE-FORWARD", f"rule:  {policy}"]
    assert extras(two, row) == [f"rule:  {policy}"]
