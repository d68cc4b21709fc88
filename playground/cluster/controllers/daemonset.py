"""The DaemonSet controller: one pod of each DaemonSet on every node that fits it (its
nodeSelector, taints it tolerates), following nodes as they join and leave; a new template
replaces the pods one node at a time (RollingUpdate, maxUnavailable 1)."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller, controlled_by
from playground.cluster.controllers.replicaset import (
    active,
    available,
    delete_gracefully,
    owned_by,
)
from playground.cluster.controllers.scheduler import selected, untolerated
from playground.cluster.daemonset import DAEMON_TOLERATIONS, REVISION_LABEL, DaemonSet
from playground.cluster.objects import ObjectMeta, OwnerReference, Pod
from playground.cluster.replicaset import random_suffix, template_hash
from playground.cluster.timers import LabTimers


def revision(ds: DaemonSet) -> str:
    template = ds.template
    return template_hash(template.labels, template.containers, None, template.node_selector,
                         template.tolerations, template.host_network,
                         template.dns_policy, template.dns_config)


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, api: ApiServer, rng, timers: LabTimers, clock) -> None:
        super().__init__()
        self.api, self.rng, self.timers, self.clock = api, rng, timers, clock
        self.waiting: set[tuple[str, str, float]] = set()

    def start(self) -> None:
        self.follow(self.api.watch("DaemonSet"), self.on_daemon_set)
        self.follow(self.api.watch("Node", replay=False), self.on_node)
        self.follow(self.api.watch("Pod", controlled_by("DaemonSet"),
                                   replay=False), self.on_pod)

    def on_daemon_set(self, event: Event) -> None:
        if event.type != "DELETED":
            self.sync(event.object.metadata.namespace, event.object.name)

    def on_node(self, event: Event) -> None:
        for ds in self.api.list("DaemonSet"):
            self.sync(ds.metadata.namespace, ds.name)

    def on_pod(self, event: Event) -> None:
        ref = event.object.metadata.controller_ref()   # a DaemonSet: the watch's predicate
        self.sync(event.object.metadata.namespace, ref.name)

    def fits(self, ds: DaemonSet, node) -> bool:
        probe = Pod(ObjectMeta("probe"), ds.template.pod_spec(tolerations=self._tolerations(ds)))
        return selected(probe, node) and untolerated(probe, node) is None

    @staticmethod
    def _tolerations(ds: DaemonSet) -> list:
        own = ds.template.tolerations
        return [*own, *(t for t in DAEMON_TOLERATIONS if t not in own)]

    def sync(self, namespace: str, name: str) -> None:
        ds = self.api.peek("DaemonSet", namespace, name)
        if ds is None:
            return
        now, wanted = self.clock(), revision(ds)
        pods = [p for p in owned_by(self.api, "Pod", ds) if active(p)]
        by_node: dict[str, list[Pod]] = {}
        for pod in pods:
            by_node.setdefault(pod.spec.node_name, []).append(pod)
        nodes = [n for n in self.api.list("Node") if self.fits(ds, n)]
        eligible = {n.name for n in nodes}
        for node, found in by_node.items():   # off nodes it no longer fits, and doubles
            extra = found if node not in eligible else sorted(
                found, key=lambda p: p.metadata.created_at)[1:]
            for pod in extra:
                delete_gracefully(self.api, pod, now)
        terminating = {p.spec.node_name for p in owned_by(self.api, "Pod", ds) if p.terminating}
        for node in nodes:
            if node.name not in by_node and node.name not in terminating:
                self._create_pod(ds, node.name, wanted)
        self._roll(ds, pods, eligible, wanted, now, terminating)
        self._update_status(ds, eligible, wanted, now)

    def _roll(self, ds: DaemonSet, pods: list[Pod], eligible: set[str], wanted: str,
              now: float, terminating: set[str]) -> None:
        """RollingUpdate with maxUnavailable 1: an old pod goes only while every other is
        available (its node gets the new one when it is gone)."""
        old = sorted((p for p in pods if p.spec.node_name in eligible
                      and p.metadata.labels.get(REVISION_LABEL) != wanted),
                     key=lambda p: p.spec.node_name)
        unavailable = len(terminating) + sum(not available(p, now, 0) for p in pods)
        if old and unavailable == 0:
            delete_gracefully(self.api, old[0], now)

    def _create_pod(self, ds: DaemonSet, node: str, wanted: str) -> None:
        namespace = ds.metadata.namespace
        name = f"{ds.name}-{random_suffix(self.rng)}"
        while self.api.peek("Pod", namespace, name) is not None:
            name = f"{ds.name}-{random_suffix(self.rng)}"
        meta = ObjectMeta(name, namespace, labels={**ds.template.labels, REVISION_LABEL: wanted},
                          owner_references=[OwnerReference("DaemonSet", ds.name,
                                                           ds.metadata.uid)])
        spec = ds.template.pod_spec(node_name=node, tolerations=self._tolerations(ds))
        self.api.create(Pod(meta, spec), handed_over=True)

    def _update_status(self, ds: DaemonSet, eligible: set[str], wanted: str,
                       now: float) -> None:
        pods = [p for p in owned_by(self.api, "Pod", ds) if active(p)]
        count = sum(available(p, now, 0) for p in pods)
        not_yet = [p for p in pods if p.ready and not available(p, now, 0)]
        if not_yet:   # look again when they become available
            due = min(p.metadata.created_at for p in not_yet) + 1.0
            key = (ds.metadata.namespace, ds.name, due)
            if key not in self.waiting:
                self.waiting.add(key)
                self.timers.at(due, lambda: self._due(key))
        status = (len(eligible), len({p.spec.node_name for p in pods}),
                  sum(p.ready for p in pods),
                  sum(p.metadata.labels.get(REVISION_LABEL) == wanted for p in pods), count)
        s = ds.status
        if status == (s.desired_number_scheduled, s.current_number_scheduled, s.number_ready,
                      s.updated_number_scheduled, s.number_available):
            return

        def edit(stored: DaemonSet) -> None:
            t = stored.status
            t.desired_number_scheduled, t.current_number_scheduled, t.number_ready, \
                t.updated_number_scheduled, t.number_available = status
        self.api.change("DaemonSet", ds.metadata.namespace, ds.name, edit)

    def _due(self, key: tuple[str, str, float]) -> None:
        self.waiting.discard(key)
        self.sync(key[0], key[1])
