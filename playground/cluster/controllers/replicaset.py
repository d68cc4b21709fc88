"""The ReplicaSet controller: keeps each ReplicaSet's count of live pods, made from its
template with generated names, and reports how many are ready and available."""

from __future__ import annotations

from collections import Counter

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller, controlled_by
from playground.cluster.objects import ObjectMeta, OwnerReference, Pod, selector_matches
from playground.cluster.replicaset import ReplicaSet, random_suffix
from playground.cluster.timers import LabTimers

# a running pod counts as available a lab second after it was made (its containers come up
# in that second: the lab's kubelet starts a pod as it is bound), so a rollout moves one
# step per settle, as on a real cluster it moves as fast as new pods start
STARTUP_SECONDS = 1.0
PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def available(pod: Pod, now: float, min_ready_seconds: int) -> bool:
    """podutil.IsPodAvailable, with the lab's start-up second."""
    return pod.ready and not pod.terminating and \
        now >= pod.metadata.created_at + max(min_ready_seconds, STARTUP_SECONDS)


def active(pod: Pod) -> bool:
    """controller.FilterActivePods: not finished and not being deleted."""
    return pod.status.phase not in ("Succeeded", "Failed") and not pod.terminating


def owned_by(api: ApiServer, kind: str, owner) -> list:
    """The objects of `kind` whose controller is `owner` (the API's owner index)."""
    namespace = owner.metadata.namespace
    return [obj for obj in api.indexed(kind, "owner", (namespace, owner.kind, owner.name))
            if obj.metadata.controller_ref().uid == owner.metadata.uid]


def delete_gracefully(api: ApiServer, pod: Pod, now: float) -> None:
    """What the API server does with a pod's DELETE: a pod on a node is marked and given its
    grace period (its kubelet stops it, then it is gone); one on no node goes at once."""
    namespace, name = pod.metadata.namespace, pod.name
    grace = pod.spec.termination_grace_period_seconds
    try:
        if pod.spec.node_name is None or grace == 0:
            api.delete("Pod", namespace, name)
        elif not pod.terminating:
            def mark(stored: Pod) -> None:
                stored.metadata.deletion_timestamp = now + grace
            api.change("Pod", namespace, name, mark)
    except NotFound:
        pass


def deletion_order(pods: list[Pod]) -> list[Pod]:
    """controller.ActivePodsWithRanks: the pods a scale-down deletes first come first (not
    on a node, not running, not ready, on a node with more of them, ready most recently,
    newest)."""
    on_node = Counter(p.spec.node_name for p in pods if p.spec.node_name)
    return sorted(pods, key=lambda p: (p.spec.node_name is not None,
                                       PHASE_RANK.get(p.status.phase, 0), p.ready,
                                       -on_node[p.spec.node_name] if p.spec.node_name else 0,
                                       -p.metadata.created_at,
                                       p.name))


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def __init__(self, api: ApiServer, rng, timers: LabTimers, clock) -> None:
        super().__init__()
        self.api, self.rng, self.timers, self.clock = api, rng, timers, clock
        self.waiting: set[tuple[str, str, float]] = set()   # timers already set

    def start(self) -> None:
        self.follow(self.api.watch("ReplicaSet"), self.on_replica_set)
        self.follow(self.api.watch("Pod", controlled_by("ReplicaSet"),
                                   replay=False), self.on_pod)

    def on_replica_set(self, event: Event) -> None:
        if event.type == "ADDED":
            self._adopt(event.object)
        if event.type != "DELETED":
            self.enqueue((event.object.metadata.namespace, event.object.name))

    def on_pod(self, event: Event) -> None:
        ref = event.object.metadata.controller_ref()   # a ReplicaSet: the watch's predicate
        self.enqueue((event.object.metadata.namespace, ref.name))

    def sync(self, namespace: str, name: str) -> None:
        rs = self.api.peek("ReplicaSet", namespace, name)
        if rs is None:
            return
        pods = [p for p in owned_by(self.api, "Pod", rs) if active(p)]
        now = self.clock()
        if len(pods) < rs.replicas:
            for _ in range(rs.replicas - len(pods)):
                self._create_pod(rs)
        elif len(pods) > rs.replicas:
            for pod in deletion_order(pods)[:len(pods) - rs.replicas]:
                delete_gracefully(self.api, pod, now)
        else:   # nothing made or deleted: the pods are still these
            self._update_status(rs, now, pods)
            return
        self._update_status(rs, now, [p for p in owned_by(self.api, "Pod", rs) if active(p)])

    def _adopt(self, rs: ReplicaSet) -> None:
        """ClaimPods, when the ReplicaSet comes: a live pod its selector matches that no
        controller owns becomes its own (looked up by the selector's first label). Kubernetes
        claims on every sync; here orphans only come before their ReplicaSet, and a sync stays
        as cheap as it was at scale."""
        if not rs.selector or rs.metadata.deletion_timestamp is not None:
            return
        key, value = next(iter(sorted(rs.selector.items())))
        namespace = rs.metadata.namespace
        for pod in self.api.indexed("Pod", "label", (namespace, key, value)):
            if pod.metadata.controller_ref() is None and active(pod) and selector_matches(
                    rs.selector, rs.selector_expressions, pod.metadata.labels):
                def own(stored: Pod) -> None:
                    stored.metadata.owner_references = [
                        *stored.metadata.owner_references,
                        OwnerReference("ReplicaSet", rs.name, rs.metadata.uid)]
                self.api.change("Pod", namespace, pod.name, own)

    def _create_pod(self, rs: ReplicaSet) -> None:
        namespace, prefix = rs.metadata.namespace, f"{rs.name}-"   # generateName
        name = prefix + random_suffix(self.rng)
        while self.api.peek("Pod", namespace, name) is not None:
            name = prefix + random_suffix(self.rng)
        meta = ObjectMeta(name, namespace, labels=dict(rs.template.labels),
                          owner_references=[OwnerReference("ReplicaSet", rs.name,
                                                           rs.metadata.uid)])
        spec = rs.template.pod_spec()
        self.api.create(Pod(meta, spec), handed_over=True)

    def _update_status(self, rs: ReplicaSet, now: float, pods: list[Pod]) -> None:
        ready = [p for p in pods if p.ready]
        count = sum(available(p, now, rs.min_ready_seconds) for p in pods)
        if count < len(ready):   # look again when the next one becomes available
            due = min(p.metadata.created_at + max(rs.min_ready_seconds, STARTUP_SECONDS)
                      for p in ready if not available(p, now, rs.min_ready_seconds))
            key = (rs.metadata.namespace, rs.name, due)
            if key not in self.waiting:
                self.waiting.add(key)
                self.timers.at(due, lambda: self._due(key))
        status = (len(pods), len(ready), count)
        current = rs.status
        if (current.replicas, current.ready_replicas, current.available_replicas) == status:
            return

        def edit(stored: ReplicaSet) -> None:
            stored.status.replicas, stored.status.ready_replicas, \
                stored.status.available_replicas = status
        self.api.change("ReplicaSet", rs.metadata.namespace, rs.name, edit, only=("status",))

    def _due(self, key: tuple[str, str, float]) -> None:
        self.waiting.discard(key)
        self.sync(key[0], key[1])
