"""A StatefulSet's pods have stable names, start in order, go from the highest ordinal down,
and come back under their own names."""

from __future__ import annotations

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import web
from playground.cluster.objects import ObjectMeta
from playground.cluster.pod_template import PodTemplate
from playground.cluster.statefulset import StatefulSet
from playground.cluster.tables import statefulsets_table
from playground.shell import Shell


def db(replicas: int = 3, **fields) -> StatefulSet:
    return StatefulSet(ObjectMeta("db", "default"), replicas, "db", {"app": "db"},
                       PodTemplate({"app": "db"}, web("db")), **fields)


def members(lab) -> list[str]:
    return sorted(p.name for p in lab.pods() if p.name.startswith("db-") and not p.terminating)


async def test_stable_names_started_in_order(lab):
    await lab.add_stateful_set(db())
    assert members(lab) == ["db-0", "db-1", "db-2"]
    made = sorted((p.metadata.resource_version, p.name) for p in lab.pods()
                  if p.name.startswith("db-"))
    assert [name for _v, name in made] == ["db-0", "db-1", "db-2"]
    pod = lab.api.peek("Pod", "default", "db-1")
    assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == "db-1"
    assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == "1"
    assert statefulsets_table(lab, "default").splitlines()[1].split()[:2] == ["db", "3/3"]


async def test_a_deleted_member_comes_back_under_its_name(lab):
    await lab.add_stateful_set(db())
    uid = lab.api.peek("Pod", "default", "db-1").metadata.uid
    await lab.delete_pod("db-1")
    await lab.settle()
    again = lab.api.peek("Pod", "default", "db-1")
    assert again is not None and again.metadata.uid != uid and again.status.phase == "Running"


async def test_scaling_down_goes_from_the_highest_ordinal_one_at_a_time(lab):
    await lab.add_stateful_set(db(4))
    lab.api.change("StatefulSet", "default", "db", lambda s: setattr(s, "replicas", 2))
    await lab.settle()
    terminating = [p.name for p in lab.pods() if p.name.startswith("db-") and p.terminating]
    assert terminating == ["db-3"]
    await lab.finish_terminations()
    await lab.finish_terminations()
    assert members(lab) == ["db-0", "db-1"]


async def test_a_new_template_replaces_the_highest_first(lab):
    await lab.add_stateful_set(db(2))
    first = {p.name: p.metadata.uid for p in lab.pods() if p.name.startswith("db-")}
    lab.api.change("StatefulSet", "default", "db", lambda s: setattr(
        s.template, "containers", [type(s.template.containers[0])(
            "db", "nginx:2", list(s.template.containers[0].ports))]))
    await lab.settle()
    assert [p.name for p in lab.pods() if p.name.startswith("db-") and p.terminating] == ["db-1"]
    for _ in range(2):
        await lab.finish_terminations()
        await lab.settle()
    now = {p.name: p.metadata.uid for p in lab.pods() if p.name.startswith("db-")}
    assert sorted(now) == ["db-0", "db-1"] and not set(now.values()) & set(first.values())
    assert {lab.api.peek("Pod", "default", n).spec.containers[0].image for n in now} == {
        "nginx:2"}


async def test_a_manifest_kubectl_get_and_delete(lab, tmp_path):
    path = tmp_path / "sts.yaml"
    path.write_text("""
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:16"}]}
""")
    shell = Shell(lab)
    await shell.run(f"kubectl apply -f {path}")
    assert members(lab) == ["db-0", "db-1"]
    assert (await shell.run("kubectl get sts")).output.splitlines()[1].split()[:2] == [
        "db", "2/2"]
    await shell.run("kubectl delete statefulset db")
    assert members(lab) == []


async def test_a_bad_policy_is_refused(lab):
    with pytest.raises(ClusterError, match='spec.podManagementPolicy: Unsupported value: "Any"'):
        await lab.add_stateful_set(db(pod_management_policy="Any"))


async def test_a_saved_lab_in_the_middle_of_a_scale_down_reopens_equal(lab, tmp_path):
    from playground.cluster.restore import saved_objects
    from playground.saves import load_lab, save_lab
    from playground.session.lab import Lab
    await lab.add_stateful_set(db(3))
    lab.api.change("StatefulSet", "default", "db", lambda s: setattr(s, "replicas", 1))
    await lab.settle()
    path = tmp_path / "sts.k8slab"
    await save_lab(Lab(lab), path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        for cluster in (lab, loaded.cluster):
            for _ in range(2):
                await cluster.finish_terminations()
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert members(loaded.cluster) == ["db-0"]
    finally:
        await loaded.close()


async def test_export_writes_daemon_and_stateful_sets_that_apply_again(lab, tmp_path):
    from playground.cluster.daemonset import DaemonSet
    from playground.cluster.kube_yaml import manifests
    from playground.cluster.lab import build_default_lab
    from playground.cluster.manifests import apply_files
    await lab.add_stateful_set(db(2))
    await lab.add_daemon_set(DaemonSet(ObjectMeta("agent", "default"), {"app": "agent"},
                                       PodTemplate({"app": "agent"}, web("agent"))))
    import yaml
    exported = [d for d in yaml.safe_load_all(manifests(lab))
                if d["kind"] in ("StatefulSet", "DaemonSet")]   # the default lab has the rest
    assert sorted(d["kind"] for d in exported) == ["DaemonSet", "StatefulSet"]
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump_all(exported))
    other = await build_default_lab()
    try:
        await apply_files(other, [str(path)])
        assert other.api.peek("StatefulSet", "default", "db").replicas == 2
        assert other.api.peek("DaemonSet", "default", "agent") is not None
        assert members(other) == ["db-0", "db-1"]
    finally:
        await other.stop()


async def test_kubectl_scale_statefulset(lab):
    await lab.add_stateful_set(db(1))
    shell = Shell(lab)
    assert (await shell.run("kubectl scale statefulset db --replicas=3")).output == \
        "statefulset.apps/db scaled\n"
    assert members(lab) == ["db-0", "db-1", "db-2"]
    await shell.run("kubectl scale sts/db --replicas=1")
    assert members(lab) == ["db-0"]
    assert [p for p in lab.pods() if p.name.startswith("db-")] == [
        lab.api.peek("Pod", "default", "db-0")]


async def test_the_pods_get_hostname_and_subdomain_and_the_headless_service_lists_them(lab):
    from playground.cluster.service import ServicePort, slices_of

    await lab.add_service("db", [ServicePort(5432)], selector={"app": "db"}, cluster_ip="None")
    await lab.add_stateful_set(db(2))
    pod = lab.api.peek("Pod", "default", "db-1")
    assert (pod.spec.hostname, pod.spec.subdomain) == ("db-1", "db")
    (found,) = slices_of(lab.api, "default", "db")
    assert sorted(e.hostname for e in found.endpoints) == ["db-0", "db-1"]
    assert lab.find_service("db").spec.cluster_ip == "None"
