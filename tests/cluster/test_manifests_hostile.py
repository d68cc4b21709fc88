"""Hostile and careless manifests: each is one line naming the file, the document, the
field and the rule, checked before anything is applied, so the lab is as it was."""

from __future__ import annotations

import time

import pytest
import yaml
from lab_state import lab_state

from playground.cluster.manifests import ManifestError, apply_files
from playground.limits import MAX_MANIFEST_BYTES, MAX_YAML_DEPTH

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "box"},
       "spec": {"containers": [{"name": "box", "image": "busybox"}]}}


def service(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


def deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def changed(base: dict, path: str, value) -> dict:
    document = yaml.safe_load(yaml.safe_dump(base))
    node = document
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return document


DELETE = object()
BOMB = "a: &a [" + ",".join(["x"] * 10) + "]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n"
    for i in range(8))

TEXTS = {
    "deeply nested": ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: "
                      + "[" * 50_000 + "]" * 50_000, f"nested more than {MAX_YAML_DEPTH} levels"),
    "alias bomb": (BOMB, "excessive aliasing"),
    "recursive alias": ("a: &a [*a]\n", "an alias refers to a value that holds it"),
    "duplicate keys": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
                       'line 5: mapping key "name" already defined at line 4'),
    "not YAML": ("kind: [\n", "not valid YAML"),
    "no apiVersion": ("kind: Pod\nmetadata: {name: x}\n", "Object 'apiVersion' is missing"),
    "wrong apiVersion": (yaml.safe_dump(changed(POD, "apiVersion", "apps/v1")),
                         'no matches for kind "Pod" in version "apps/v1"'),
    "unknown kind": ("apiVersion: v1\nkind: Lease\nmetadata: {name: x}\n",
                     'no matches for kind "Lease"'),
}

OBJECTS = {
    "empty image": ([changed(POD, "spec.containers.0.image", "")],
                    "spec.containers[0].image: Required value"),
    "container port 0": ([changed(POD, "spec.containers.0.ports", [{"containerPort": 0}])],
                         "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be "
                         "between 1 and 65535, inclusive"),
    "label key": ([changed(POD, "metadata.labels", {"bad key!": "x"})],
                  'metadata.labels: Invalid value: "bad key!"'),
    "label value too long": ([changed(POD, "metadata.labels", {"app": "v" * 64})],
                             "must be no more than 63 characters"),
    "pod in a missing namespace": ([changed(POD, "metadata.namespace", "nowhere")],
                                   'namespaces "nowhere" not found'),
    "service name": ([service("1web")], 'The Service "1web" is invalid: metadata.name: '
                                        'Invalid value: "1web": a DNS-1035 label'),
    "named target port": ([service("web2", ports=[{"port": 80, "targetPort": "Not_A_Name"}])],
                          'spec.ports[0].targetPort: Invalid value: "Not_A_Name"'),
    "policy on ClusterIP": ([service("web2", externalTrafficPolicy="Cluster")],
                            'spec.externalTrafficPolicy: Invalid value: "Cluster": may only be '
                            "set for externally-accessible services"),
    "source ranges on NodePort": ([service("web2", type="NodePort",
                                           loadBalancerSourceRanges=["10.0.0.0/8"])],
                                  "spec.LoadBalancerSourceRanges: Forbidden"),
    "network address as clusterIP": ([service("web2", clusterIP="10.96.0.0")],
                                     "failed to allocate IP 10.96.0.0: provided IP is not in "
                                     "the valid range"),
    "broadcast address as clusterIP": ([service("web2", clusterIP="10.111.255.255")],
                                       "provided IP is not in the valid range"),
    "replicas a million": ([deployment("big", 1_000_000)], "more than the 200000 a lab"),
    "a 3,000-pod manifest": ([deployment(f"d{i}", 100) for i in range(30)],
                             "its 3000 pods do not fit"),
    "the third document is bad": ([service("web2"), service("web3"),
                                   changed(POD, "spec.containers.0.image", "")],
                                  "document 3 (Pod/box)"),
    "duplicate objects": ([POD, POD], "Pod box is given twice (first in"),
    "already there": ([changed(POD, "metadata.name", "client")], 'pods "client" already exists'),
    "nodePort clash in the file": (
        [service("a", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]),
         service("b", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])],
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"),
}


@pytest.mark.parametrize("text, message", TEXTS.values(), ids=TEXTS.keys())
async def test_a_bad_file_is_one_line(lab, tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = lab_state(lab)
    with pytest.raises(ManifestError) as error:
        await apply_files(lab, [str(path)])
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith(str(path))
    assert lab_state(lab) == before


@pytest.mark.parametrize("documents, message", OBJECTS.values(), ids=OBJECTS.keys())
async def test_a_bad_object_changes_nothing(lab, tmp_path, documents, message):
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    before = lab_state(lab)
    with pytest.raises(ManifestError) as error:
        await apply_files(lab, [str(path)])
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
    assert lab_state(lab) == before


async def test_a_clash_with_the_lab_is_found_before_anything_is_applied(lab, tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text(yaml.safe_dump(service("a", type="NodePort",
                                            ports=[{"port": 80, "nodePort": 30080}])))
    await apply_files(lab, [str(first)])
    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump_all([
        service("b"), service("c", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])]))
    before = lab_state(lab)
    with pytest.raises(ManifestError, match="already allocated .to default/a."):
        await apply_files(lab, [str(second)])
    assert lab_state(lab) == before


async def test_a_pod_the_cluster_cannot_start_rolls_the_whole_file_back(lab, tmp_path):
    """Checks cannot see everything: an address asked for that is taken fails at start."""
    taken = changed(POD, "metadata.annotations",
                    {"cni.projectcalico.org/ipAddrs": '["10.244.1.2"]'})
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump_all([service("early"), deployment("early", 2), taken]))
    before = lab_state(lab)
    with pytest.raises(ManifestError, match=r"document 3 \(Pod/box\).*nothing of .* was applied"):
        await apply_files(lab, [str(path)])
    assert lab_state(lab) == before


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
async def test_reading_a_device_stops_at_the_limit(lab, device):
    started = time.process_time()
    with pytest.raises(ManifestError, match=f"more than {MAX_MANIFEST_BYTES // 1024 // 1024} "
                                            "MiB, the most a manifest may hold"):
        await apply_files(lab, [device])
    assert time.process_time() - started < 5


async def test_tolerations_null_is_accepted_as_the_api_server_does(lab, tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(changed(POD, "spec.tolerations", None)))
    await apply_files(lab, [str(path)])
    assert lab.find_pod("box").status.phase == "Running"


async def test_a_whole_good_file_is_applied(lab, tmp_path):
    path = tmp_path / "good.yaml"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    path.write_text(yaml.safe_dump_all([changed(deployment("cart", 2), "metadata.namespace",
                                                "shop"), namespace]))
    await apply_files(lab, [str(path)])
    assert len([p for p in lab.pods("shop") if p.name.startswith("cart-")]) == 2


async def test_an_ingress_rolled_back_takes_its_controller_with_it(lab, tmp_path):
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "shop"},
               "spec": {"defaultBackend": {"service": {"name": "web",
                                                       "port": {"number": 80}}}}}
    taken = changed(POD, "metadata.annotations",
                    {"cni.projectcalico.org/ipAddrs": '["10.244.1.2"]'})
    path = tmp_path / "ingress.yaml"
    path.write_text(yaml.safe_dump_all([ingress, taken]))
    before = lab_state(lab)
    with pytest.raises(ManifestError, match="nothing of"):
        await apply_files(lab, [str(path)])
    assert lab_state(lab) == before
