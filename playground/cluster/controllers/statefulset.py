"""The StatefulSet controller: pods NAME-0 .. NAME-(n-1), each made again under its own
name once the old one is gone; with OrderedReady (the default) one at a time, each waiting
for the ones before it to be ready, removed from the highest ordinal down, and a new
template rolled out from the highest ordinal down, one pod at a time."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller, controlled_by
from playground.cluster.controllers.replicaset import (
    active,
    delete_gracefully,
    owned_by,
)
from playground.cluster.daemonset import REVISION_LABEL
from playground.cluster.objects import ObjectMeta, OwnerReference, Pod
from playground.cluster.replicaset import template_hash
from playground.cluster.statefulset import POD_INDEX_LABEL, POD_NAME_LABEL, StatefulSet


def revision(sts: StatefulSet) -> str:
    template = sts.template
    hash_ = template_hash(template.labels, template.containers, None, template.node_selector,
                          template.tolerations, template.host_network,
                          template.dns_policy, template.dns_config)
    return f"{sts.name}-{hash_}"


def ordinal(sts: StatefulSet, pod: Pod) -> int:
    text = pod.name[len(sts.name) + 1:]
    return int(text) if text.isdigit() else -1


class StatefulSetController(Controller):
    name = "statefulset-controller"

    def __init__(self, api: ApiServer, clock) -> None:
        super().__init__()
        self.api, self.clock = api, clock

    def start(self) -> None:
        self.follow(self.api.watch("StatefulSet"), self.on_stateful_set)
        self.follow(self.api.watch("Pod", controlled_by("StatefulSet"),
                                   replay=False), self.on_pod)

    def on_stateful_set(self, event: Event) -> None:
        if event.type != "DELETED":
            self.sync(event.object.metadata.namespace, event.object.name)

    def on_pod(self, event: Event) -> None:
        ref = event.object.metadata.controller_ref()   # a StatefulSet: the watch's predicate
        self.sync(event.object.metadata.namespace, ref.name)

    def sync(self, namespace: str, name: str) -> None:
        sts = self.api.peek("StatefulSet", namespace, name)
        if sts is None:
            return
        now, wanted = self.clock(), revision(sts)
        ordered = sts.pod_management_policy == "OrderedReady"
        pods = {ordinal(sts, p): p for p in owned_by(self.api, "Pod", sts)}
        busy = any(p.terminating for p in pods.values())
        for index in range(sts.replicas):   # make the missing, in order
            pod = pods.get(index)
            if pod is None:
                if self.api.peek("Pod", namespace, f"{name}-{index}") is None:
                    self._create_pod(sts, index, wanted)
                if ordered:
                    break
            elif ordered and (pod.terminating or not pod.ready):
                break
        else:
            condemned = sorted((i for i, p in pods.items() if i >= sts.replicas
                                and active(p)), reverse=True)
            healthy = all(p.ready and not p.terminating for p in pods.values())
            for index in condemned[:1] if ordered else condemned:   # the highest first
                if healthy or not ordered:
                    delete_gracefully(self.api, pods[index], now)
            if not condemned and not busy and healthy:   # RollingUpdate, highest first
                stale = sorted((i for i, p in pods.items() if i < sts.replicas
                                and p.metadata.labels.get(REVISION_LABEL) != wanted),
                               reverse=True)
                if stale:
                    delete_gracefully(self.api, pods[stale[0]], now)
        self._update_status(sts, wanted)

    def _create_pod(self, sts: StatefulSet, index: int, wanted: str) -> None:
        name = f"{sts.name}-{index}"
        labels = {**sts.template.labels, REVISION_LABEL: wanted, POD_NAME_LABEL: name,
                  POD_INDEX_LABEL: str(index)}
        meta = ObjectMeta(name, sts.metadata.namespace, labels=labels,
                          owner_references=[OwnerReference("StatefulSet", sts.name,
                                                           sts.metadata.uid)])
        # its identity (updateIdentity): found in DNS as NAME.SERVICENAME
        spec = sts.template.pod_spec(hostname=name, subdomain=sts.service_name)
        self.api.create(Pod(meta, spec), handed_over=True)

    def _update_status(self, sts: StatefulSet, wanted: str) -> None:
        pods = [p for p in owned_by(self.api, "Pod", sts) if active(p)]
        status = (len(pods), sum(p.ready for p in pods),
                  sum(p.metadata.labels.get(REVISION_LABEL) == wanted for p in pods))
        s = sts.status
        if status == (s.replicas, s.ready_replicas, s.updated_replicas):
            return

        def edit(stored: StatefulSet) -> None:
            t = stored.status
            t.replicas, t.ready_replicas, t.updated_replicas = status
        self.api.change("StatefulSet", sts.metadata.namespace, sts.name, edit)
