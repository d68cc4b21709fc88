"""Lab files: a saved lab comes back with the same objects and gives the same traces."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

from playground.cluster.objects import Container
from playground.cluster.restore import saved_objects
from playground.cluster.service import slices_of
from playground.saves import (
    MIGRATIONS,
    VERSION,
    LabFileError,
    autosave,
    discard_recovery,
    load_lab,
    pack_lab,
    pending_recovery,
    save_lab,
)
from playground.session.lab import Lab, LessonProgress

FOLLOW_UP = ["trace pod/client svc/web", "reply", "traffic pod/client svc/web --count 20",
             "trace pod/client internet", "reply"]
NODE_VIEWS = ["conntrack -L", "iptables-save -c", "ip route"]


async def outputs(lab: Lab) -> list[str]:
    seen = [(await lab.run(line)).output for line in FOLLOW_UP]
    for node in lab.cluster.nodes():
        seen += [(await lab.run(view, f"node/{node.name}")).output for view in NODE_VIEWS]
    return seen


async def test_a_loaded_lab_has_the_objects_and_gives_the_traces_of_the_saved_one(lab, tmp_path):
    await lab.add_deployment("api", [Container("api", "nginx:1.27")], replicas=2)
    original = Lab(lab)
    await original.run("trace pod/client svc/web")
    await original.run("reply")
    await original.run("sysctl -w net.bridge.bridge-nf-call-iptables=0", "node/kind-worker2")
    path = tmp_path / "one.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert [a.line for a in loaded.history] == [a.line for a in original.history]
        assert pack_lab(loaded) == pack_lab(original)
        assert await outputs(loaded) == await outputs(original)
    finally:
        await loaded.close()


async def test_saving_again_keeps_the_previous_file_as_bak(lab, tmp_path):
    first = Lab(lab)
    path = tmp_path / "lab.k8slab"
    await save_lab(first, path)
    before = path.read_bytes()
    await first.run("trace pod/client svc/web")
    await save_lab(first, path)
    assert (tmp_path / "lab.k8slab.bak").read_bytes() == before
    assert path.read_bytes() == pack_lab(first)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


async def test_autosave_goes_to_the_recovery_file_until_discarded(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert pending_recovery() is None
    original = Lab(lab, layout={"inspector": "routes", "speed": 2, "autoplay": True})
    await original.run("trace pod/client pod/web-1")
    path = await autosave(original)
    assert path == tmp_path / "k8s-playground" / "recovery.k8slab" == pending_recovery()
    restored = await load_lab(path)
    try:
        assert restored.layout == original.layout
        assert pack_lab(restored) == pack_lab(original)
    finally:
        await restored.close()
    discard_recovery()
    assert pending_recovery() is None


async def test_lesson_progress_and_layout_come_back(lab, tmp_path):
    original = Lab(lab, LessonProgress("pod-to-service", ["dnat"]), {"pane": "lesson"})
    path = tmp_path / "lesson.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert loaded.lesson == LessonProgress("pod-to-service", ["dnat"])
        assert loaded.layout == {"pane": "lesson"}
    finally:
        await loaded.close()


def test_a_layout_of_the_wrong_types_is_refused(lab):
    with pytest.raises(LabFileError, match="layout.pane"):
        Lab(lab, layout={"pane": ["a", "list"]})


async def test_a_lab_with_a_bigger_cluster_cidr_keeps_it_and_its_node_subnets(tmp_path):
    from playground.cluster.cluster import Cluster
    cluster = Cluster(cluster_cidr="10.128.0.0/9")
    await cluster.start()
    await cluster.add_node("a")
    await cluster.add_pod("p", [Container("c")])
    path = tmp_path / "big.k8slab"
    await save_lab(Lab(cluster), path)
    loaded = await load_lab(path)
    assert str(loaded.cluster.cluster_cidr) == "10.128.0.0/9"
    assert loaded.cluster.nodes()[0].spec.pod_cidr == "10.128.0.0/24"
    assert loaded.cluster.pods()[0].status.pod_ip == "10.128.0.2"
    await loaded.close()
    await cluster.stop()


async def test_a_default_lab_writes_no_cluster_cidr_and_loads_with_the_default(lab, tmp_path):
    import msgpack
    document = msgpack.unpackb(pack_lab(Lab(lab)))
    assert "cluster_cidr" not in document["settings"]   # older files read the same way
    path = tmp_path / "old.k8slab"
    path.write_bytes(msgpack.packb(document, use_bin_type=True))
    loaded = await load_lab(path)
    assert str(loaded.cluster.cluster_cidr) == "10.244.0.0/16"
    assert len(loaded.cluster.pods()) == len(lab.pods())
    await loaded.close()


async def test_an_ipvs_lab_comes_back_in_ipvs_mode_and_older_files_are_iptables(tmp_path):
    import msgpack

    from playground.cluster.lab import build_default_lab
    from playground.saves import lab_document

    original = Lab(await build_default_lab(proxy_mode="ipvs"))
    await original.run("trace pod/client svc/web")
    path = tmp_path / "ipvs.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert loaded.cluster.proxy_mode == "ipvs"
        assert pack_lab(loaded) == pack_lab(original)
        listing = (await loaded.run("ipvsadm -Ln", "node/kind-worker")).output
        assert listing == (await original.run("ipvsadm -Ln", "node/kind-worker")).output
    finally:
        await loaded.close()
        await original.close()
    iptables = Lab(await build_default_lab())
    try:
        assert "proxy_mode" not in lab_document(iptables)["settings"], "older files stay"
        assert msgpack.unpackb(pack_lab(iptables))["settings"].get("proxy_mode") is None
    finally:
        await iptables.close()


async def test_a_version_1_file_loads_into_the_lab_its_version_2_file_holds():
    """tests/data/version-1.k8slab is saves/pod-to-service.k8slab as version 1 wrote it
    (each object its own map), and version-4.k8slab that file as version 4 wrote it before
    the default lab's coredns became a Deployment; the first migrates to the lab the second
    holds, saved the same way again."""
    tests = Path(__file__).parent
    old = await load_lab(tests / "data" / "version-1.k8slab")
    new = await load_lab(tests / "data" / "version-4.k8slab")
    try:
        assert saved_objects(old.cluster) == saved_objects(new.cluster)
        assert pack_lab(old) == pack_lab(new)
        assert await outputs(old) == await outputs(new)
    finally:
        await old.close()
        await new.close()


async def test_a_version_7_file_gives_its_workloads_their_template_as_one_record():
    """tests/data/version-7.k8slab is saves/dns.k8slab as version 7 wrote it, each template
    field of the coredns Deployment and ReplicaSet its own column (template_labels,
    containers, tolerations): they open as the same objects saves/dns.k8slab holds now (its
    nodes aside: the control plane has since gained kubeadm's exclusion label)."""
    root = Path(__file__).parent.parent
    old = await load_lab(root / "tests" / "data" / "version-7.k8slab")
    new = await load_lab(root / "saves" / "dns.k8slab")
    try:
        coredns = old.cluster.api.get("Deployment", "kube-system", "coredns")
        assert coredns.template.labels == {"k8s-app": "kube-dns"}
        assert coredns.template.containers[0].image.startswith("registry.k8s.io/coredns/")
        assert [t.key for t in coredns.template.tolerations] == [
            "node-role.kubernetes.io/control-plane"]
        assert [o for o in saved_objects(old.cluster) if o.kind != "Node"] == \
            [o for o in saved_objects(new.cluster) if o.kind != "Node"]
        assert msgpack.unpackb(pack_lab(old))["version"] == VERSION
    finally:
        await old.close()
        await new.close()


async def test_a_lab_saved_in_the_middle_of_a_rollout_reopens_equal_and_goes_on_equal(
        lab, tmp_path):
    from playground.cluster.lab import web
    from playground.cluster.service import ServicePort
    from playground.cluster.tables import deployments_table, pods_table, replicasets_table
    await lab.add_deployment("shop", web("shop"), replicas=4)
    await lab.add_service("shop", [ServicePort(80, "http")], selector={"app": "shop"})
    await lab.set_image("shop", {"shop": "nginx:2"})
    await lab.settle()
    original = Lab(lab)
    assert len(lab.replica_sets("default")) == 2
    assert any(p.terminating for p in lab.pods())

    def seen(cluster) -> list[str]:
        return [pods_table(cluster, None, True), replicasets_table(cluster, None, True),
                deployments_table(cluster, None, True),
                repr(slices_of(cluster.api, "default", "shop")[0].endpoints)]

    path = tmp_path / "rollout.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert seen(loaded.cluster) == seen(lab)
        assert pack_lab(loaded) == pack_lab(original)
        for _ in range(3):   # and the rollout goes on the same way, pod names and all
            await lab.settle()
            await loaded.cluster.settle()
            assert seen(loaded.cluster) == seen(lab)
        await lab.rollout_status("shop")
        await loaded.cluster.rollout_status("shop")
        await lab.finish_terminations()
        await loaded.cluster.finish_terminations()
        assert seen(loaded.cluster) == seen(lab)
        assert saved_objects(loaded.cluster) == saved_objects(lab)
    finally:
        await loaded.close()


async def test_a_version_2_file_gives_its_deployments_replicasets_and_keeps_every_pod():
    """tests/data/version-2.k8slab is saves/ingress.k8slab as version 2 wrote it, before
    ReplicaSets: three Deployments owned their pods through an annotation."""
    import msgpack as packer

    from playground.cluster.columns import decode_tables
    from playground.cluster.tables import deployments_table
    path = Path(__file__).parent / "data" / "version-2.k8slab"
    document = packer.unpackb(path.read_bytes())
    for version in range(2, VERSION):   # its columns as today's
        document = MIGRATIONS[version](document)
    saved = decode_tables(document["objects"])
    pods = {(p.metadata.namespace, p.name, p.status.pod_ip) for p in saved if p.kind == "Pod"}
    lab = await load_lab(path)
    try:
        cluster = lab.cluster
        assert {(p.metadata.namespace, p.name, p.status.pod_ip) for p in cluster.pods()} == pods
        for deployment in cluster.deployments_list():
            (rs,) = [r for r in cluster.replica_sets()
                     if r.metadata.controller_ref().uid == deployment.metadata.uid]
            owned = cluster.owned_pods(deployment)
            assert len(owned) == deployment.replicas == rs.status.available_replicas
            assert all("playground/owner" not in p.metadata.annotations for p in owned)
            assert rs.name == f"{deployment.name}-{owned[0].metadata.labels['pod-template-hash']}"
        before = saved_objects(cluster)
        await cluster.settle()
        assert saved_objects(cluster) == before   # nothing to roll out, nothing remade
        table = deployments_table(cluster, None).splitlines()
        for row in table[1:]:
            ready, wanted = row.split()[2].split("/")
            assert ready == wanted != "0"
    finally:
        await lab.close()
