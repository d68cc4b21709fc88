"""A DaemonSet runs one pod on every node it fits, follows nodes as they join and leave, and
replaces its pods one node at a time when its template changes."""

from __future__ import annotations

import re

from playground.cluster.daemonset import REVISION_LABEL, DaemonSet
from playground.cluster.lab import web
from playground.cluster.objects import ObjectMeta, Toleration
from playground.cluster.pod_template import PodTemplate
from playground.cluster.replicaset import NAME_ALPHABET
from playground.cluster.tables import daemonsets_table
from playground.shell import Shell

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def agent(**fields) -> DaemonSet:
    return DaemonSet(ObjectMeta("agent", "default"), {"app": "agent"},
                     PodTemplate({"app": "agent"}, web("agent"), **fields))


def placed(lab) -> dict[str, str]:
    return {p.spec.node_name: p.name for p in lab.pods()
            if p.name.startswith("agent-") and not p.terminating}


async def test_one_pod_per_node_that_fits(lab):
    await lab.add_daemon_set(agent())
    assert sorted(placed(lab)) == ["kind-worker", "kind-worker2"]   # the control plane is tainted
    assert all(re.fullmatch(rf"agent-[{NAME_ALPHABET}]{{5}}", n) for n in placed(lab).values())
    await lab.settle()
    row = daemonsets_table(lab, "default").splitlines()[1].split()
    assert row[:7] == ["agent", "2", "2", "2", "2", "2", "<none>"]


async def test_a_toleration_takes_it_to_the_control_plane_and_new_nodes_get_one(lab):
    await lab.add_daemon_set(agent(tolerations=[Toleration(CONTROL_PLANE, "Exists")]))
    assert len(placed(lab)) == 3
    await lab.add_node("kind-worker3")
    assert "kind-worker3" in placed(lab)
    await Shell(lab).run("node delete kind-worker3")
    assert "kind-worker3" not in placed(lab) and len(placed(lab)) == 3


async def test_a_node_selector_limits_it(lab):
    lab.api.change("Node", "", "kind-worker", lambda n: n.metadata.labels.update({"gpu": "1"}))
    await lab.settle()
    await lab.add_daemon_set(agent(node_selector={"gpu": "1"}))
    assert list(placed(lab)) == ["kind-worker"]


async def test_its_pods_stay_on_a_notready_node_and_a_new_template_rolls_node_by_node(lab):
    await lab.add_daemon_set(agent())
    await lab.mark_node("kind-worker", False)
    await lab.advance(400)
    assert "kind-worker" in placed(lab)   # daemon pods tolerate not-ready
    await lab.mark_node("kind-worker", True)
    before = placed(lab)
    lab.api.change("DaemonSet", "default", "agent",
                   lambda ds: setattr(ds.template, "containers", web("agent")[:0] + [
                       type(ds.template.containers[0])("agent", "nginx:2",
                                                       list(ds.template.containers[0].ports))]))
    await lab.settle()
    terminating = [p for p in lab.pods() if p.name.startswith("agent-") and p.terminating]
    assert len(terminating) == 1   # maxUnavailable 1
    await lab.finish_terminations()
    await lab.advance(120)
    await lab.finish_terminations()
    after = placed(lab)
    assert sorted(after) == sorted(before) and set(after.values()).isdisjoint(before.values())
    revisions = {p.metadata.labels[REVISION_LABEL] for p in lab.pods()
                 if p.name.startswith("agent-")}
    assert len(revisions) == 1


async def test_a_manifest_and_kubectl(lab, tmp_path):
    path = tmp_path / "ds.yaml"
    path.write_text("""
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "fluent/fluent-bit:3.0"}]}
""")
    shell = Shell(lab)
    await shell.run(f"kubectl apply -f {path}")
    out = (await shell.run("kubectl get ds")).output
    assert out.splitlines()[0].split()[:3] == ["NAME", "DESIRED", "CURRENT"]
    await shell.run("kubectl delete ds agent")
    assert placed(lab) == {}


async def test_a_saved_lab_keeps_its_daemon_set(lab, tmp_path):
    from playground.cluster.restore import saved_objects
    from playground.saves import load_lab, save_lab
    from playground.session.lab import Lab
    await lab.add_daemon_set(agent())
    path = tmp_path / "ds.k8slab"
    await save_lab(Lab(lab), path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        await loaded.cluster.add_node("kind-worker3")
        assert "kind-worker3" in placed(loaded.cluster)
    finally:
        await loaded.close()
