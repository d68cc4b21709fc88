"""A node that goes away takes its pods with it, and their ReplicaSets make new ones on the
nodes that are left: at once for a deleted node, after the 300 s toleration for a NotReady
one (the node lifecycle controller's taint, on the lab clock)."""

from __future__ import annotations

from playground.cluster.controllers.node_lifecycle import NOT_READY, TOLERATION_SECONDS
from playground.cluster.lab import web
from playground.shell import Shell


def nodes_of(lab, deployment) -> list[str]:
    return sorted(p.spec.node_name for p in lab.owned_pods(deployment) if not p.terminating)


async def test_deleting_a_node_reschedules_its_deployment_pods(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=4)
    assert set(nodes_of(lab, deployment)) == {"kind-worker", "kind-worker2"}
    out = (await Shell(lab).run("node delete kind-worker2")).output
    assert out == 'node "kind-worker2" removed\n'
    pods = lab.owned_pods(deployment)
    assert len(pods) == 4 and {p.spec.node_name for p in pods} == {"kind-worker"}
    assert all(p.status.phase == "Running" for p in pods)
    assert not [p for p in lab.pods() if p.spec.node_name == "kind-worker2"]
    leftover = [ns for ns in lab.network.namespaces if ns.startswith("pod/")
                and lab.api.peek("Pod", *ns.split("/")[1:]) is None]
    assert leftover == []


async def test_a_notready_node_is_tainted_and_its_pods_evicted_after_300_seconds(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=4)
    shell = Shell(lab)
    out = (await shell.run("node notready kind-worker2")).output
    assert out.startswith("node/kind-worker2 is NotReady; its pods are evicted after 300 s")
    node = lab.api.peek("Node", "", "kind-worker2")
    (taint,) = [t for t in node.spec.taints if t.key == NOT_READY]
    assert (taint.effect, taint.time_added) == ("NoExecute", lab.network.clock)
    marked = lab.network.clock
    await lab.advance(TOLERATION_SECONDS - 2)
    assert nodes_of(lab, deployment).count("kind-worker2") == 2   # still tolerated
    await shell.run("sleep 5")
    assert lab.network.clock >= marked + TOLERATION_SECONDS
    assert nodes_of(lab, deployment) == ["kind-worker"] * 4
    on_it = [p for p in lab.pods() if p.spec.node_name == "kind-worker2"]
    assert on_it and all(p.terminating for p in on_it)   # their grace period
    await lab.finish_terminations()
    assert not [p for p in lab.pods() if p.spec.node_name == "kind-worker2"]
    # the bare pods on it went too (no owner makes them again)
    assert lab.api.peek("Pod", "default", "web-1") is None


async def test_a_node_ready_again_is_untainted_and_keeps_its_pods(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=2)
    await lab.mark_node("kind-worker", False)
    await lab.advance(10)
    await lab.mark_node("kind-worker", True)
    assert not [t for t in lab.api.peek("Node", "", "kind-worker").spec.taints
                if t.key == NOT_READY]
    before = nodes_of(lab, deployment)
    await lab.advance(TOLERATION_SECONDS)
    assert nodes_of(lab, deployment) == before


async def test_a_pod_that_tolerates_the_taint_stays(lab):
    from playground.cluster.objects import Container, Toleration
    await lab.add_pod("stays", [Container("c")], node_name="kind-worker",
                      tolerations=[Toleration(NOT_READY, "Exists", "NoExecute")])
    await lab.mark_node("kind-worker", False)
    await lab.advance(TOLERATION_SECONDS + 60)
    assert lab.api.peek("Pod", "default", "stays") is not None
    assert lab.api.peek("Pod", "default", "client") is None


async def test_a_saved_lab_evicts_when_the_lab_it_was_saved_from_would(lab, tmp_path):
    from playground.cluster.restore import saved_objects
    from playground.saves import load_lab, save_lab
    from playground.session.lab import Lab
    await lab.add_deployment("shop", web("shop"), replicas=2)
    await lab.mark_node("kind-worker2", False)
    await lab.advance(100)
    path = tmp_path / "notready.k8slab"
    await save_lab(Lab(lab), path)
    loaded = await load_lab(path)
    try:
        for cluster in (lab, loaded.cluster):
            await cluster.advance(TOLERATION_SECONDS)
            await cluster.finish_terminations()
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert not [p for p in lab.pods() if p.spec.node_name == "kind-worker2"]
    finally:
        await loaded.close()
