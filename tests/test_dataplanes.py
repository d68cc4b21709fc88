"""A lab cloned onto another dataplane, and one packet of its journal sent through both."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.dataplane import Dataplane
from playground.cluster.lab import build_default_lab
from playground.dataplanes import clone_lab, compare_trace, find_action
from playground.net.align import SAME
from playground.saves import load_lab
from playground.session.lab import Lab


@pytest.fixture
async def bridge_lab():
    lab = Lab(await build_default_lab())
    yield lab
    await lab.close()


def objects(lab):
    return sorted((o.kind, o.metadata.namespace, o.name) for kind in
                  ("Node", "Pod", "Service") for o in lab.cluster.api.list(kind))


async def test_a_clone_has_the_same_objects_on_the_other_cni(bridge_lab):
    clone = await clone_lab(bridge_lab, Dataplane("ptp"))
    try:
        assert clone.cluster.cni.name == "ptp" and bridge_lab.cluster.cni.name == "bridge"
        assert objects(clone) == objects(bridge_lab)
        ips = {p.name: p.status.pod_ip for p in bridge_lab.cluster.pods()}
        assert {p.name: p.status.pod_ip for p in clone.cluster.pods()} == ips
        assert clone.cluster.network.rng.getstate() == bridge_lab.cluster.network.rng.getstate()
        assert clone.lesson is None
        assert "cni0" not in clone.cluster.node_namespace("kind-worker").devices
    finally:
        await clone.close()


async def test_a_clone_runs_the_journal_again():
    lab = await load_lab("saves/missing-route.k8slab")
    try:
        clone = await clone_lab(lab, Dataplane("ptp"))
        try:
            assert [a.line for a in clone.history] == [a.line for a in lab.history]
            assert clone.skipped == []
            broken = lab.history[-1].traces[0]
            assert clone.history[-1].traces[0].verdict == broken.verdict != "delivered"
        finally:
            await clone.close()
    finally:
        await lab.close()


async def test_an_earlier_packet_is_sent_again_from_where_the_lab_stood(bridge_lab):
    await bridge_lab.run("trace pod/client svc/web")
    await bridge_lab.run("reply")
    await bridge_lab.run("trace pod/client pod/web-2")
    first = bridge_lab.history[0].traces[0]
    comparison = await compare_trace(bridge_lab, first, Dataplane("ptp"))
    assert comparison.left_trace is first
    assert comparison.right_trace.packet == first.packet, "same source port"
    assert comparison.right_trace.delivered_to == first.delivered_to, "same endpoint"
    assert (str(comparison.left), str(comparison.right)) == ("bridge", "ptp")
    answer = bridge_lab.history[1].traces[0]
    again = await compare_trace(bridge_lab, answer, Dataplane("ptp"))
    assert again.right_trace.packet == answer.packet
    assert again.right_trace.verdict == "delivered"


async def test_the_same_dataplane_gives_the_same_trace(bridge_lab):
    await bridge_lab.run("trace pod/client svc/web")
    trace = bridge_lab.history[0].traces[0]
    comparison = await compare_trace(bridge_lab, trace, Dataplane("bridge"))
    assert [row.status for row in comparison.rows] == [SAME] * len(trace.hops)


async def test_a_packet_outside_the_journal_is_refused(bridge_lab, lab):
    stranger = lab.network.send("pod/default/client", "10.244.2.2")
    with pytest.raises(ClusterError, match="not in the lab's journal"):
        find_action(bridge_lab, stranger)


async def test_a_clone_that_cannot_carry_the_dataplane_is_refused(bridge_lab):
    """A lab rebuilt without the mode asked for would be labelled wrongly: refused."""
    plane = Dataplane("ptp", "userspace")  # not a mode the parser lets through
    with pytest.raises(ClusterError, match="cannot be rebuilt on ptp/userspace"):
        await clone_lab(bridge_lab, plane)


async def test_what_the_copy_cannot_run_again_is_said(bridge_lab):
    await bridge_lab.run("ip route add 10.99.0.0/24 dev cni0", "node/kind-worker")
    await bridge_lab.run("trace pod/client pod/web-1")
    comparison = await compare_trace(bridge_lab, bridge_lab.history[-1].traces[0],
                                     Dataplane("ptp"))
    assert comparison.skipped == ("ip route add 10.99.0.0/24 dev cni0",)
    assert comparison.caveat() == ("on ptp, the copy could not run again: "
                                   "ip route add 10.99.0.0/24 dev cni0")
    same = await compare_trace(bridge_lab, bridge_lab.history[-1].traces[0],
                               Dataplane("bridge"))
    assert same.skipped == () and same.caveat() == ""


async def test_a_clone_on_another_provider_gets_that_providers_addresses():
    """MetalLB's 172.18.255.x addresses stay behind: cloud-provider-kind's Envoy takes the
    next free address of the kind network, and the same Services keep theirs on MetalLB."""
    from pathlib import Path
    lab = await load_lab(Path(__file__).parent.parent / "saves" / "metallb.k8slab")
    kept = await clone_lab(lab, Dataplane("bridge", lb="metallb"))
    moved = await clone_lab(lab, Dataplane("bridge", lb="cloud-provider-kind"))
    try:
        def ips(one):
            return {s.name: s.status.load_balancer_ips for s in one.cluster.api.list("Service")
                    if s.status.load_balancer_ips}
        assert ips(kept) == ips(lab) and all(a[0].startswith("172.18.255.")
                                             for a in ips(lab).values())
        assert set(ips(moved)) == set(ips(lab))
        assert not any(a[0].startswith("172.18.255.") for a in ips(moved).values())
    finally:
        for one in (lab, kept, moved):
            await one.close()
