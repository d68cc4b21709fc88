"""Labs saved before ReplicaSets (lab file version 2): a Deployment owned its pods itself,
named in the pods' annotation playground/owner. They come back as Kubernetes has them: the
Deployment's pods owned by one ReplicaSet of revision 1, named by the pods' own
pod-template-hash, so nothing is made again and no pod changes name or address."""

from __future__ import annotations

from playground.cluster.deployment import Deployment, DeploymentStatus
from playground.cluster.objects import ObjectMeta, OwnerReference
from playground.cluster.pod_template import PodTemplate
from playground.cluster.replicaset import (
    HASH_LABEL,
    REVISION,
    ReplicaSet,
    ReplicaSetStatus,
    template_hash,
)

OWNER_ANNOTATION = "playground/owner"   # NS/NAME of the Deployment


def adopt_legacy_pods(objects: list) -> list:
    """`objects` with a ReplicaSet for each Deployment whose pods name it in the annotation;
    the pods' annotation becomes an owner reference. Objects of newer labs pass unchanged."""
    owned: dict[str, list] = {}
    for obj in objects:
        if obj.kind == "Pod" and OWNER_ANNOTATION in obj.metadata.annotations:
            owned.setdefault(obj.metadata.annotations[OWNER_ANNOTATION], []).append(obj)
    if not owned and not any(o.kind == "Deployment" and not o.metadata.annotations.get(REVISION)
                             for o in objects):
        return objects
    has_sets = {(o.metadata.namespace, o.metadata.controller_ref().name) for o in objects
                if o.kind == "ReplicaSet" and o.metadata.controller_ref() is not None}
    added = []
    for deployment in (o for o in objects if o.kind == "Deployment"):
        if (deployment.metadata.namespace, deployment.name) in has_sets:
            continue
        pods = owned.pop(deployment.key, [])
        rs = _replica_set(deployment, pods)
        owner = [OwnerReference("ReplicaSet", rs.name, rs.metadata.uid)]
        for pod in pods:
            _drop_annotation(pod)
            pod.metadata.owner_references = owner
        # a loaded lab's objects share equal values (columns.py): new ones, never edits
        deployment.metadata.annotations = {**deployment.metadata.annotations, REVISION: "1"}
        ready = rs.status.ready_replicas
        deployment.status = DeploymentStatus(len(pods), len(pods), ready, ready,
                                             max(deployment.replicas - ready, 0))
        added.append(rs)
    for pods in owned.values():   # a Deployment no longer there: the pods are left alone
        for pod in pods:
            _drop_annotation(pod)
    return objects + added


def _drop_annotation(pod) -> None:
    pod.metadata.annotations = {k: v for k, v in pod.metadata.annotations.items()
                                if k != OWNER_ANNOTATION}


def _replica_set(deployment: Deployment, pods: list) -> ReplicaSet:
    hashes = sorted({p.metadata.labels.get(HASH_LABEL, "") for p in pods} - {""})
    own = deployment.template
    hash_ = hashes[0] if len(hashes) == 1 else template_hash(
        own.labels, own.containers, host_network=own.host_network)
    meta = deployment.metadata
    uid = meta.uid.replace("-0000-", "-0001-", 1) if "-0000-" in meta.uid else f"{meta.uid}-rs"
    labels = {**own.labels, HASH_LABEL: hash_}
    ready = sum(p.status.phase == "Running" for p in pods)
    return ReplicaSet(
        ObjectMeta(f"{deployment.name}-{hash_}", meta.namespace, labels=dict(labels),
                   annotations={REVISION: "1"}, uid=uid,
                   resource_version=meta.resource_version, created_at=meta.created_at,
                   owner_references=[OwnerReference("Deployment", deployment.name, meta.uid)]),
        deployment.replicas, {**deployment.selector, HASH_LABEL: hash_},
        PodTemplate(labels, own.containers, host_network=own.host_network),
        ReplicaSetStatus(len(pods), ready, ready))
