"""Deployments run their pods through a ReplicaSet, as Kubernetes does: names, labels, owner
references, self-healing and scaling through the ReplicaSet."""

from __future__ import annotations

import re

import pytest

from playground.cluster.lab import web
from playground.cluster.objects import Container
from playground.cluster.replicaset import (
    HASH_LABEL,
    NAME_ALPHABET,
    fnv32a,
    safe_encode,
    template_hash,
)
from playground.cluster.tables import deployments_table, pods_table, replicasets_table


def test_fnv32a_and_safe_encode_are_kubernetes_own():
    # FNV-1a 32-bit reference values (draft-eastlake-fnv), and SafeEncodeString's mapping of
    # the digits: '0' is 48, 48 % 27 = 21, NAME_ALPHABET[21] = '4'
    assert [fnv32a(b""), fnv32a(b"a"), fnv32a(b"foobar")] == [0x811C9DC5, 0xE40C292C,
                                                               0xBF9CF968]
    assert safe_encode("0123456789") == "456789bcdf"


def test_the_hash_follows_the_template_and_a_collision_count():
    one = template_hash({"app": "web"}, web())
    assert one == template_hash({"app": "web"}, web())
    assert one != template_hash({"app": "web"}, [Container("web", "nginx:2")])
    assert one != template_hash({"app": "web"}, web(), collisions=1)
    assert set(one) <= set(NAME_ALPHABET) and 1 <= len(one) <= 10


async def test_a_deployment_makes_a_replicaset_that_owns_its_pods(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=3)
    (rs,) = lab.replica_sets("default")
    hash_ = template_hash({"app": "shop"}, web("shop"))
    assert rs.name == f"shop-{hash_}"
    assert rs.metadata.labels[HASH_LABEL] == hash_
    assert rs.selector == {"app": "shop", HASH_LABEL: hash_}
    ref = rs.metadata.controller_ref()
    assert (ref.kind, ref.name, ref.uid) == ("Deployment", "shop", deployment.metadata.uid)
    pods = lab.owned_pods(deployment)
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(rf"shop-{hash_}-[{NAME_ALPHABET}]{{5}}", pod.name)
        assert pod.metadata.labels == {"app": "shop", HASH_LABEL: hash_}
        assert pod.metadata.controller_ref().uid == rs.metadata.uid


async def test_names_come_from_the_seeded_random_source(lab):
    from playground.cluster.lab import build_default_lab
    other = await build_default_lab()
    try:
        await lab.add_deployment("shop", web("shop"), replicas=2)
        await other.add_deployment("shop", web("shop"), replicas=2)
        assert [p.name for p in lab.pods()] == [p.name for p in other.pods()]
    finally:
        await other.stop()


async def test_a_deleted_pod_is_replaced_within_one_settle(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=3)
    victim = lab.owned_pods(deployment)[0]
    lab.api.change("Pod", "default", victim.name,
                   lambda pod: setattr(pod.metadata, "deletion_timestamp",
                                       lab.network.clock + 30))
    await lab.settle()
    live = [p for p in lab.owned_pods(deployment) if not p.terminating]
    assert len(live) == 3 and victim.name not in {p.name for p in live}
    assert all(p.status.phase == "Running" for p in live)
    assert lab.api.peek("Pod", "default", victim.name).terminating   # its grace period


async def test_kubectl_delete_pod_waits_for_it_and_the_deployment_is_whole_again(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=3)
    victim = lab.owned_pods(deployment)[0]
    await lab.delete_pod(victim.name)
    assert lab.api.peek("Pod", "default", victim.name) is None
    pods = lab.owned_pods(deployment)
    assert len(pods) == 3 and all(p.status.phase == "Running" for p in pods)
    assert "shop   3/3     3            3" in deployments_table(lab, "default")


async def test_a_failed_pod_is_replaced(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=2)
    failed = lab.owned_pods(deployment)[0]
    lab.api.change("Pod", "default", failed.name,
                   lambda pod: setattr(pod.status, "phase", "Failed"))
    await lab.settle()
    running = [p for p in lab.owned_pods(deployment) if p.status.phase == "Running"]
    assert len(running) == 2 and failed.name not in {p.name for p in running}


async def test_scaling_goes_through_the_replicaset(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=2)
    await lab.scale("shop", 4)
    (rs,) = lab.replica_sets("default")
    assert (rs.replicas, rs.status.replicas) == (4, 4)
    await lab.scale("shop", 1)
    (rs,) = lab.replica_sets("default")
    assert (rs.replicas, rs.status.replicas) == (1, 1)
    assert len(lab.owned_pods(deployment)) == 1   # scale waited for the terminations


async def test_get_rs_and_deployments_show_the_counts(lab):
    await lab.add_deployment("shop", web("shop"), replicas=2)
    rs = lab.replica_sets("default")[0]
    assert replicasets_table(lab, "default").splitlines() == [
        "NAME" + " " * (len(rs.name) - 1) + "DESIRED   CURRENT   READY   AGE",
        f"{rs.name}   2         2         2       0s"]
    assert deployments_table(lab, "default").splitlines()[1].split() == [
        "shop", "2/2", "2", "0", "1s"]   # available a lab second after they started
    await lab.settle()
    assert deployments_table(lab, "default").splitlines()[1].split()[:4] == [
        "shop", "2/2", "2", "2"]


async def test_deleting_a_deployment_takes_its_replicaset_and_pods(lab):
    await lab.add_deployment("shop", web("shop"), replicas=2)
    await lab.delete_deployment("shop")
    assert lab.replica_sets("default") == []  # kube-system keeps coredns's
    assert not [p for p in lab.pods() if p.name.startswith("shop-")]
    assert "shop" not in pods_table(lab, "default", False)


async def test_a_terminating_pod_shows_as_terminating(lab):
    deployment = await lab.add_deployment("shop", web("shop"), replicas=1)
    pod = lab.owned_pods(deployment)[0]
    await lab.scale("shop", 2)
    lab.api.change("Pod", "default", pod.name,
                   lambda p: setattr(p.metadata, "deletion_timestamp", lab.network.clock + 30))
    await lab.settle()
    row = next(line for line in pods_table(lab, "default", False).splitlines()
               if line.startswith(pod.name))
    assert row.split()[2] == "Terminating"


@pytest.mark.parametrize("field,value,message", [
    ("max_surge", "25", "a valid percent string"),
    ("max_unavailable", "120%", "must not be greater than 100%"),
    ("strategy", "BlueGreen", 'spec.strategy.type: Unsupported value: "BlueGreen"'),
])
async def test_bad_strategies_are_refused_with_the_field_named(lab, field, value, message):
    from playground.cluster.cluster import ClusterError
    with pytest.raises(ClusterError, match=re.escape(message)):
        await lab.add_deployment("shop", web("shop"), **{field: value})
    assert lab.api.peek("Deployment", "default", "shop") is None


async def test_a_replica_set_claims_the_orphan_pods_its_selector_matches(lab):
    """ClaimPods: bare pods with the template's labels become the ReplicaSet's, so only the
    missing replicas are made."""
    labels = {"app": "shop"}
    containers = web("shop")
    from playground.cluster.deployment import Deployment
    from playground.cluster.objects import ObjectMeta
    from playground.cluster.pod_template import PodTemplate
    from playground.cluster.replicaset import workload_hash
    probe = Deployment(ObjectMeta("shop", "default"), 3, labels, PodTemplate(labels, containers))
    hash_ = workload_hash(probe)
    await lab.add_pod(f"shop-{hash_}-aaaaa", containers, labels={**labels, HASH_LABEL: hash_})
    await lab.add_deployment("shop", containers, replicas=3, labels=labels)
    pods = [p for p in lab.pods("default") if p.name.startswith("shop-")]
    assert len(pods) == 3
    assert all(p.metadata.controller_ref().name == f"shop-{hash_}" for p in pods)
    assert f"shop-{hash_}-aaaaa" in {p.name for p in pods}


def test_the_default_lab_runs_coredns_as_kubeadm_does(lab):
    deployment = lab.api.peek("Deployment", "kube-system", "coredns")
    assert deployment.replicas == 2 and deployment.status.replicas == 2
    pods = lab.pods("kube-system")
    hash_ = pods[0].metadata.labels[HASH_LABEL]
    assert {p.name for p in pods} == {f"coredns-{hash_}-4x7kq", f"coredns-{hash_}-9vx2m"}
    assert {p.metadata.controller_ref().name for p in pods} == {f"coredns-{hash_}"}
