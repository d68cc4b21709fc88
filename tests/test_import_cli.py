"""`k8s-playground import`: kubectl's output from a kind cluster (tests/data/kind-cluster,
written in the shape `kubectl get nodes,pods,services,endpointslices,networkpolicies,
ingresses -A -o yaml` prints) rebuilt as a lab with the cluster's own names and addresses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from playground.cli import main
from playground.cluster.cni_guess import guess_cni
from playground.saves import load_lab

KIND = Path(__file__).parent / "data" / "kind-cluster" / "get-all.yaml"


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return yaml.safe_load(KIND.read_text())["items"]


def test_a_kind_cluster_comes_back_with_its_names_and_addresses(tmp_path, capsys):
    lab_file = tmp_path / "mine.k8slab"
    assert main(["import", str(KIND), "-o", str(lab_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "pods: 3 have owners (ReplicaSets, DaemonSets...) that are not in the input; "
        "imported as bare pods",
        "endpointslice: 1 not imported, made again by the EndpointSlice controller from the "
        "Services and pods",
        "kube-proxy: its mode is not in the input (the kube-proxy ConfigMap); the lab runs it "
        "in iptables mode",
        f"wrote {lab_file}: 2 nodes, 4 pods, 3 services; cni ptp (as kindnet), cluster CIDR "
        "10.244.0.0/16"]
    assert main(["show", "nodes", "-o", "wide", "-f", str(lab_file)]) == 0
    nodes = capsys.readouterr().out
    assert "kind-control-plane   Ready    control-plane" in nodes
    assert "172.18.0.2" in nodes and "10.244.1.0/24" in nodes
    assert main(["trace", "pod/client", "svc/web", "-f", str(lab_file)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        "in pod/default/web-6d4cf56db6-x7k2p")
    # the cluster's NetworkPolicy came along, enforced by kindnet's kube-network-policies
    assert main(["reach", "-f", str(lab_file), "--why", "client", "web-6d4cf56db6-x7k2p"]) == 0
    assert "default/web-allow-client ingress[0].from[0]" in capsys.readouterr().out
    # the API server's own EndpointSlice came along: the kubernetes Service answers
    assert main(["trace", "pod/client", "svc/kubernetes", "--port", "443",
                 "-f", str(lab_file)]) == 0
    assert "delivered to kube-apiserver" in capsys.readouterr().out


def test_several_files_yaml_and_json(tmp_path, items, capsys):
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                 "items": [i for i in items if i["kind"] == "Node"]}))
    rest = tmp_path / "rest.yaml"
    rest.write_text(yaml.safe_dump_all([i for i in items if i["kind"] in ("Pod", "Service")]))
    lab_file = tmp_path / "split.k8slab"
    assert main(["import", str(nodes), str(rest), "-o", str(lab_file)]) == 0
    asyncio.run(_check_split(lab_file))


async def _check_split(lab_file) -> None:
    lab = await load_lab(lab_file)
    try:
        web = lab.cluster.find_service("web")
        assert (web.spec.cluster_ip, web.spec.ports[0].node_port) == ("10.96.47.120", 31080)
        dns = lab.cluster.find_service("kube-dns", "kube-system")
        assert dns.spec.cluster_ip == "10.96.0.10"
        pod = lab.cluster.find_pod("coredns-6f6b679f8f-4dz2s", "kube-system")
        assert (pod.status.pod_ip, pod.spec.node_name) == ("10.244.0.3", "kind-control-plane")
        assert lab.cluster.cni.name == "ptp"
    finally:
        await lab.close()


def test_the_cni_is_guessed_from_pods_and_annotations(items):
    nodes = [i for i in items if i["kind"] == "Node"]
    flannel = [{**nodes[0], "metadata": {**nodes[0]["metadata"], "annotations": {
        "flannel.alpha.coreos.com/backend-type": "vxlan"}}}]
    assert guess_cni([], flannel).plugin == "vxlan"
    cilium = [{"metadata": {"name": "cilium-7xk2q", "namespace": "kube-system"}}]
    assert (guess_cni(cilium, nodes).found, guess_cni(cilium, nodes).plugin) == \
        ("cilium", "cilium")
    calico = guess_cni([{"metadata": {"name": "calico-node-abcde"}}], nodes)
    assert (calico.plugin, calico.note.split(":")[0]) == ("bridge", "cni")
    assert "calico is not modelled" in calico.note
    assert "none of kindnet" in guess_cni([], nodes).note


def test_an_address_the_lab_cannot_pin_is_one_line_and_no_file(tmp_path, items, capsys):
    broken = [dict(i) for i in items]
    client = next(i for i in broken if i["metadata"]["name"] == "client")
    client["status"] = {**client["status"], "podIP": "10.244.0.77"}   # not kind-worker's
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": broken}))
    lab_file = tmp_path / "never.k8slab"
    assert main(["import", str(path), "-o", str(lab_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pod default/client: status.podIP '10.244.0.77'" in err
    assert not lab_file.exists()
    far = tmp_path / "far.yaml"
    far.write_text(KIND.read_text().replace("172.18.0.2\n", "192.168.9.2\n"))
    assert main(["import", str(far), "-o", str(lab_file)]) == 2
    assert "node kind-worker: InternalIP 192.168.9.2 is not a free host address of " \
        "172.18.0.0/16" in capsys.readouterr().err
    no_nodes = tmp_path / "pods.yaml"
    no_nodes.write_text(yaml.safe_dump(client))
    assert main(["import", str(no_nodes), "-o", str(lab_file)]) == 2
    assert "no Node in the input" in capsys.readouterr().err


def test_a_nodes_own_iptables_save_is_compared_with_the_model(tmp_path, capsys):
    first = tmp_path / "first.k8slab"
    assert main(["import", str(KIND), "-o", str(first)]) == 0
    capsys.readouterr()
    assert main(["show", "iptables", "node/kind-worker", "-f", str(first)]) == 0
    model = capsys.readouterr().out.splitlines()
    gone = next(line for line in model if line.startswith("-A KUBE-SERVICES -d 10.96.0.1/32"))
    docker = "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT"   # kind's node container has it
    node = [line for line in model if line != gone]
    node.insert(node.index("*nat") + 1, ":DOCKER_OUTPUT - [0:0]")
    nat = node.index("*nat")
    node.insert(node.index("COMMIT", nat), docker)   # the nat table's last rule
    dump = tmp_path / "kind-worker.iptables-save"
    dump.write_text("\n".join(node) + "\n")
    assert main(["import", str(KIND), "-o", str(tmp_path / "second.k8slab"),
                 "--iptables-save", f"kind-worker={dump}"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("kind-worker iptables-save:")]
    assert lines[:3] == [f"kind-worker iptables-save: only on the node: *nat {docker}",
                         "kind-worker iptables-save: only on the node: *nat :DOCKER_OUTPUT -",
                         f"kind-worker iptables-save: only in the model: *nat {gone}"]
    assert lines[3].endswith(" chains and rules agree, 2 only on the node, 1 only in the model")
    assert main(["import", str(KIND), "-o", str(tmp_path / "third.k8slab"),
                 "--iptables-save", f"kind-worker9={dump}"]) == 2
    assert "'kind-worker9' is not a node of the input" in capsys.readouterr().err
