"""nodeSelector, taints and tolerations in scheduling, for pods and Deployments' templates."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import web
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, Toleration
from playground.cluster.replicaset import template_hash

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


async def label(lab, node: str, key: str, value: str) -> None:
    lab.api.change("Node", "", node, lambda n: n.metadata.labels.update({key: value}))
    await lab.settle()


async def test_a_node_selector_picks_the_nodes_with_its_labels(lab):
    await label(lab, "kind-worker2", "disk", "ssd")
    pod = await lab.add_pod("fast", [Container("c")], node_selector={"disk": "ssd"})
    assert pod.spec.node_name == "kind-worker2"


async def test_no_node_with_the_labels_is_said_as_the_scheduler_says_it(lab):
    with pytest.raises(ClusterError, match=re.escape(
            "0/3 nodes are available: 1 node(s) had untolerated taint "
            f"{{{CONTROL_PLANE}: }}, 2 node(s) didn't match Pod's node affinity/selector.")):
        await lab.add_pod("fast", [Container("c")], node_selector={"disk": "ssd"})


async def test_a_toleration_lets_a_deployment_onto_the_control_plane(lab):
    await label(lab, "kind-control-plane", "zone", "cp")
    deployment = await lab.add_deployment(
        "agent", web("agent"), replicas=2, node_selector={"zone": "cp"},
        tolerations=[Toleration(CONTROL_PLANE, "Exists", "NoSchedule")])
    pods = lab.owned_pods(deployment)
    assert {p.spec.node_name for p in pods} == {"kind-control-plane"}
    assert pods[0].spec.tolerations == [Toleration(CONTROL_PLANE, "Exists", "NoSchedule")]


async def test_an_equal_toleration_needs_the_taints_value(lab):
    lab.api.change("Node", "", "kind-worker", lambda n: n.spec.taints.append(
        __import__("playground.cluster.objects", fromlist=["Taint"]).Taint("team", "blue")))
    lab.api.change("Node", "", "kind-worker2", lambda n: n.spec.taints.append(
        __import__("playground.cluster.objects", fromlist=["Taint"]).Taint("team", "red")))
    await lab.settle()
    pod = await lab.add_pod("blue", [Container("c")],
                            tolerations=[Toleration("team", "Equal", "NoSchedule", "blue")])
    assert pod.spec.node_name == "kind-worker"


def test_the_hash_of_a_template_without_scheduling_fields_is_unchanged():
    assert template_hash({"app": "web"}, web()) == template_hash(
        {"app": "web"}, web(), node_selector={}, tolerations=[])
    assert template_hash({"app": "web"}, web()) != template_hash(
        {"app": "web"}, web(), node_selector={"disk": "ssd"})


async def test_a_manifests_node_selector_and_tolerations(lab, tmp_path):
    await label(lab, "kind-worker", "disk", "ssd")
    path = tmp_path / "d.yaml"
    path.write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: fast}
spec:
  replicas: 2
  selector: {matchLabels: {app: fast}}
  template:
    metadata: {labels: {app: fast}}
    spec:
      nodeSelector: {disk: ssd}
      tolerations: [{key: team, operator: Equal, value: blue, effect: NoSchedule}]
      containers: [{name: c, image: nginx}]
""")
    await apply_files(lab, [str(path)])
    deployment = lab.api.peek("Deployment", "default", "fast")
    assert {p.spec.node_name for p in lab.owned_pods(deployment)} == {"kind-worker"}
    from playground.cluster.kube_yaml import manifests
    assert "nodeSelector:\n        disk: ssd" in manifests(lab)


async def test_a_bad_toleration_operator_is_refused(lab):
    with pytest.raises(ClusterError, match=re.escape(
            'spec.tolerations[0].operator: Unsupported value: "Near"')):
        await lab.add_pod("x", [Container("c")], tolerations=[Toleration("a", "Near")])
