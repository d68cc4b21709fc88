"""hostNetwork in a workload's pod template (Deployment, ReplicaSet, DaemonSet, StatefulSet):
the API server takes it, every pod the controller makes runs on its node's network, the
template hash prints it, and lab files keep it."""

from __future__ import annotations

import re

import pytest

from playground.cluster.kube_yaml import load_all, manifests
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.replicaset import template_hash
from playground.cluster.restore import saved_objects
from playground.saves import lab_document, load_lab, pack_document, pack_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell, ShellError

NODE_IPS = {"kind-worker": "172.18.0.2", "kind-worker2": "172.18.0.3"}
AGENT = [Container("agent", "prom/node-exporter", [ContainerPort(9100)])]
NO_FREE_PORT = ("0/3 nodes are available: 1 node(s) had untolerated taint "
                "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't have free ports "
                "for the requested pod ports.")


def write(tmp_path, kind: str, spec: str, port: int = 9100) -> str:
    path = tmp_path / f"{kind.lower()}.yaml"
    path.write_text(f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {kind.lower()}}}\n"
                    "spec:\n"
                    f"{spec}  selector: {{matchLabels: {{app: agent}}}}\n  template:\n"
                    "    metadata: {labels: {app: agent}}\n    spec:\n      hostNetwork: true\n"
                    "      containers:\n      - name: agent\n        image: prom/node-exporter\n"
                    f"        ports: [{{containerPort: {port}}}]\n")
    return str(path)


def pods_of(lab, prefix: str) -> list:
    return sorted((p for p in lab.api.list("Pod", "default") if p.name.startswith(prefix)),
                  key=lambda p: p.name)


async def test_a_daemon_set_puts_one_pod_on_each_node_at_the_nodes_address(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "DaemonSet", "")])
    pods = pods_of(lab, "daemonset-")
    assert sorted(p.spec.node_name for p in pods) == ["kind-worker", "kind-worker2"]
    for pod in pods:
        assert pod.spec.host_network
        assert pod.status.phase == "Running"
        assert pod.status.pod_ip == pod.status.host_ip == NODE_IPS[pod.spec.node_name]
        assert f"pod/default/{pod.name}" not in lab.network.namespaces, "no sandbox network"
        assert [p.host_port for p in pod.host_ports()] == [9100], "each holds the node's port"
    template = lab.api.get("DaemonSet", "default", "daemonset").template
    assert template.containers[0].ports[0].host_port == 9100, \
        "the template is defaulted as the API server defaults it"


async def test_a_deployment_with_more_replicas_than_nodes_leaves_the_rest_pending(
        lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "Deployment", "  replicas: 3\n")])
    pods = pods_of(lab, "deployment-")
    running = [p for p in pods if p.status.phase == "Running"]
    pending = [p for p in pods if p.status.phase == "Pending"]
    assert sorted(p.status.pod_ip for p in running) == ["172.18.0.2", "172.18.0.3"]
    assert len(pending) == 1 and pending[0].spec.node_name is None
    assert (pending[0].status.reason, pending[0].status.message) == (
        "Unschedulable", NO_FREE_PORT)
    assert lab.api.get("Deployment", "default", "deployment").replicas == 3, "taken as asked"
    rs = next(iter(lab.api.list("ReplicaSet", "default")))
    assert rs.template.host_network


async def test_a_stateful_sets_pods_run_on_their_nodes_network(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "StatefulSet", "  replicas: 2\n")])
    pods = pods_of(lab, "statefulset-")
    assert [p.name for p in pods] == ["statefulset-0", "statefulset-1"]
    assert sorted(p.status.pod_ip for p in pods) == ["172.18.0.2", "172.18.0.3"]


def test_the_template_hash_prints_host_network_only_when_true():
    assert template_hash({"app": "a"}, AGENT) == template_hash({"app": "a"}, AGENT,
                                                               host_network=False)
    assert template_hash({"app": "a"}, AGENT) != template_hash({"app": "a"}, AGENT,
                                                               host_network=True)


async def test_turning_host_network_on_rolls_the_deployment_out(lab):
    await lab.add_deployment("agent", AGENT, replicas=1)
    before = pods_of(lab, "agent-")
    assert before[0].status.pod_ip.startswith("10.244.")
    await lab.update_deployment("agent", host_network=True)
    await lab.rollout_status("agent")
    await lab.finish_terminations()
    sets = sorted(lab.api.list("ReplicaSet", "default"), key=lambda rs: rs.revision)
    assert [rs.template.host_network for rs in sets] == [False, True]
    assert sets[0].name != sets[1].name, "a new pod-template-hash"
    (after,) = [p for p in pods_of(lab, "agent-") if not p.terminating]
    assert after.name != before[0].name
    assert after.status.pod_ip == NODE_IPS[after.spec.node_name]


async def test_kubectl_patch_turns_host_network_on(lab):
    await lab.add_deployment("agent", AGENT, replicas=1)
    shell = Shell(lab)
    await shell.run("kubectl patch deployment agent -p "
                    """'{"spec":{"template":{"spec":{"hostNetwork":true}}}}'""")
    await lab.rollout_status("agent")
    await lab.finish_terminations()
    assert lab.find_deployment("agent").template.host_network
    (pod,) = pods_of(lab, "agent-")
    assert pod.status.pod_ip == NODE_IPS[pod.spec.node_name]
    with pytest.raises(ShellError, match="spec.template.spec.hostNetwork: expected true"):
        await shell.run("kubectl patch deployment agent -p "
                        """'{"spec":{"template":{"spec":{"hostNetwork":"yes"}}}}'""")


async def test_the_export_writes_host_network_in_the_template(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "DaemonSet", "")])
    (exported,) = [d for d in load_all(manifests(lab))
                   if d["kind"] == "DaemonSet" and d["metadata"]["name"] == "daemonset"]
    spec = exported["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is True
    assert spec["containers"][0]["ports"] == [{"containerPort": 9100, "hostPort": 9100}]


async def test_a_lab_with_host_network_workloads_reopens_equal(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "DaemonSet", "")])
    await apply_files(lab, [write(tmp_path, "Deployment", "  replicas: 3\n", port=9200)])
    assert len([p for p in pods_of(lab, "deployment-") if p.status.phase == "Pending"]) == 1
    original = Lab(lab)
    path = tmp_path / "host.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert pack_lab(loaded) == pack_lab(original)
        workloads = [o for o in saved_objects(loaded.cluster)
                     if o.kind in ("DaemonSet", "Deployment", "ReplicaSet")
                     and o.metadata.namespace == "default"]
        assert len(workloads) == 3 and all(o.template.host_network for o in workloads)
    finally:
        await loaded.close()


async def test_a_version_6_file_opens_with_host_network_false(lab, tmp_path):
    await lab.add_deployment("web2", AGENT, replicas=1)
    document = lab_document(Lab(lab))
    columns = document["objects"]["Deployment"]["columns"]
    assert not any(re.search("host_network", key) for key in columns), "false: left out"
    path = tmp_path / "old.k8slab"
    path.write_bytes(pack_document({**document, "version": 6}))
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert not loaded.cluster.api.get("Deployment", "default", "web2").template.host_network
    finally:
        await loaded.close()


async def test_a_daemon_set_pod_whose_nodes_port_is_taken_waits_and_reopens_so(lab, tmp_path):
    await lab.add_pod("bare", AGENT, node_name="kind-worker", host_network=True)
    await apply_files(lab, [write(tmp_path, "DaemonSet", "")])
    (waiting,) = [p for p in pods_of(lab, "daemonset-") if p.status.phase != "Running"]
    assert waiting.spec.node_name == "kind-worker"
    assert "bind tcp 0.0.0.0:9100: address already in use" in waiting.status.message
    original = Lab(lab)
    path = tmp_path / "taken.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert pack_lab(loaded) == pack_lab(original)
    finally:
        await loaded.close()
