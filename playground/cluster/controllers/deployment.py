"""The deployment controller: runs each Deployment through ReplicaSets, one per pod template,
rolling from the old to the new as pkg/controller/deployment/rolling.go does (maxSurge
above the replica count, maxUnavailable below it, the old scaled down as the new become
available), or all at once with the Recreate strategy; keeps its status and revisions."""

from __future__ import annotations

from dataclasses import replace

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller, controlled_by
from playground.cluster.controllers.replicaset import owned_by
from playground.cluster.deployment import Deployment, fenceposts
from playground.cluster.objects import ObjectMeta, OwnerReference
from playground.cluster.replicaset import (
    HASH_LABEL,
    REVISION,
    ReplicaSet,
    same_template,
    workload_hash,
)


def replica_sets_of(api: ApiServer, deployment: Deployment) -> list[ReplicaSet]:
    """Its ReplicaSets, oldest first (ReplicaSetsByCreationTimestamp)."""
    return sorted(owned_by(api, "ReplicaSet", deployment),
                  key=lambda rs: (rs.metadata.created_at, rs.name))


def new_replica_set(deployment: Deployment, found: list[ReplicaSet]) -> ReplicaSet | None:
    return next((rs for rs in found if same_template(rs, deployment)), None)


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, api: ApiServer) -> None:
        super().__init__()
        self.api = api

    def start(self) -> None:
        self.follow(self.api.watch("Deployment"), self.on_deployment)
        self.follow(self.api.watch("ReplicaSet", replay=False), self.on_replica_set)
        self.follow(self.api.watch("Pod", controlled_by("ReplicaSet"),
                                   replay=False), self.on_pod)

    def on_deployment(self, event: Event) -> None:
        if event.type != "DELETED":
            self.sync(event.object.metadata.namespace, event.object.name)

    def on_replica_set(self, event: Event) -> None:
        ref = event.object.metadata.controller_ref()
        if ref is not None and ref.kind == "Deployment":
            self.sync(event.object.metadata.namespace, ref.name)

    def on_pod(self, event: Event) -> None:
        """deletePod: a Recreate waits for the last old pod to be gone."""
        if event.type != "DELETED":
            return
        ref = event.object.metadata.controller_ref()   # a ReplicaSet: the watch's predicate
        namespace = event.object.metadata.namespace
        rs = self.api.peek("ReplicaSet", namespace, ref.name)
        owner = rs.metadata.controller_ref() if rs is not None else None
        if owner is not None and owner.kind == "Deployment":
            deployment = self.api.peek("Deployment", namespace, owner.name)
            if deployment is not None and deployment.strategy == "Recreate":
                self.sync(namespace, owner.name)

    def sync(self, namespace: str, name: str) -> None:
        deployment = self.api.peek("Deployment", namespace, name)
        if deployment is None:
            return
        found = replica_sets_of(self.api, deployment)
        new = new_replica_set(deployment, found)
        old = [rs for rs in found if rs is not new]
        new = self._create(deployment, old) if new is None else self._mark_newest(new, old)
        if deployment.strategy == "Recreate":
            self._recreate(deployment, new, old)
        elif not self._reconcile_new(deployment, new, old):
            self._reconcile_old(deployment, new, old)
        self._clean_up(deployment, old)
        self._update_status(deployment, new, old)

    # the new ReplicaSet

    def _create(self, deployment: Deployment, old: list[ReplicaSet]) -> ReplicaSet:
        namespace = deployment.metadata.namespace
        collisions = None
        while True:   # a name taken by another template: ComputeHash with a collision count
            hash_ = workload_hash(deployment, collisions)
            name = f"{deployment.name}-{hash_}"
            if self.api.peek("ReplicaSet", namespace, name) is None:
                break
            collisions = (collisions or 0) + 1
        if deployment.strategy == "Recreate":
            replicas = 0 if any(rs.replicas or rs.status.replicas for rs in old) \
                else deployment.replicas
        else:   # deploymentutil.NewRSNewReplicas, from nothing
            surge, _ = fenceposts(deployment)
            room = deployment.replicas + surge - sum(rs.replicas for rs in old)
            replicas = max(0, min(room, deployment.replicas))
        revision = max((rs.revision for rs in old), default=0) + 1
        meta = ObjectMeta(name, namespace,
                          labels={**deployment.template.labels, HASH_LABEL: hash_},
                          annotations={REVISION: str(revision)},
                          owner_references=[OwnerReference("Deployment", deployment.name,
                                                           deployment.metadata.uid)])
        own = deployment.template
        template = replace(own, labels={**own.labels, HASH_LABEL: hash_},
                           node_selector=dict(own.node_selector),
                           tolerations=list(own.tolerations))
        rs = ReplicaSet(meta, replicas, {**deployment.selector, HASH_LABEL: hash_}, template,
                        min_ready_seconds=deployment.min_ready_seconds,
                        selector_expressions=list(deployment.selector_expressions))
        self.api.create(rs, handed_over=True)
        return self.api.peek("ReplicaSet", namespace, name)

    def _mark_newest(self, new: ReplicaSet, old: list[ReplicaSet]) -> ReplicaSet:
        """An old template back (rollout undo): its ReplicaSet takes the next revision."""
        newest = max((rs.revision for rs in old), default=0)
        if new.revision > newest:
            return new
        self.api.change("ReplicaSet", new.metadata.namespace, new.name,
                        lambda rs: rs.metadata.annotations.update({REVISION: str(newest + 1)}))
        return self.api.peek("ReplicaSet", new.metadata.namespace, new.name)

    def _scale(self, rs: ReplicaSet, replicas: int) -> None:
        if rs.replicas == replicas:
            return

        def edit(stored: ReplicaSet) -> None:
            stored.replicas = replicas
        self.api.change("ReplicaSet", rs.metadata.namespace, rs.name, edit)

    # RollingUpdate

    def _reconcile_new(self, deployment: Deployment, new: ReplicaSet,
                       old: list[ReplicaSet]) -> bool:
        """reconcileNewReplicaSet: whether it scaled the new ReplicaSet."""
        wanted = deployment.replicas
        if new.replicas == wanted:
            return False
        if new.replicas > wanted:
            self._scale(new, wanted)
            return True
        surge, _ = fenceposts(deployment)
        current = new.replicas + sum(rs.replicas for rs in old)
        room = wanted + surge - current
        if room <= 0:
            return False
        self._scale(new, new.replicas + min(room, wanted - new.replicas))
        return True

    def _reconcile_old(self, deployment: Deployment, new: ReplicaSet,
                       old: list[ReplicaSet]) -> None:
        """reconcileOldReplicaSets: first the old pods that are not available, then as many
        available ones as keep maxUnavailable."""
        sizes = {rs.name: rs.replicas for rs in old}
        if sum(sizes.values()) == 0:
            return
        _, unavailable = fenceposts(deployment)
        least = deployment.replicas - unavailable
        new_unavailable = new.replicas - new.status.available_replicas
        room = new.replicas + sum(sizes.values()) - least - new_unavailable
        if room <= 0:
            return
        cleaned = 0   # cleanupUnhealthyReplicas
        for rs in old:
            if cleaned >= room:
                break
            unhealthy = sizes[rs.name] - rs.status.available_replicas
            if sizes[rs.name] == 0 or unhealthy <= 0:
                continue
            down = min(room - cleaned, unhealthy)
            sizes[rs.name] -= down
            cleaned += down
        usable = new.status.available_replicas + sum(rs.status.available_replicas
                                                     for rs in old)
        budget = usable - least   # scaleDownOldReplicaSetsForRollingUpdate
        for rs in old:
            if budget <= 0:
                break
            down = min(sizes[rs.name], budget)
            sizes[rs.name] -= down
            budget -= down
        for rs in old:
            self._scale(rs, sizes[rs.name])

    # Recreate

    def _recreate(self, deployment: Deployment, new: ReplicaSet,
                  old: list[ReplicaSet]) -> None:
        for rs in old:
            self._scale(rs, 0)
        if any(rs.status.replicas or any(p.status.phase not in ("Failed", "Succeeded")
                                         for p in owned_by(self.api, "Pod", rs))
               for rs in old):   # oldPodsRunning: terminating ones too
            return
        self._scale(new, deployment.replicas)

    # history and status

    def _clean_up(self, deployment: Deployment, old: list[ReplicaSet]) -> None:
        """cleanupDeployment: empty old ReplicaSets beyond revisionHistoryLimit go, oldest
        revision first."""
        empty = sorted((rs for rs in old if rs.replicas == 0 and rs.status.replicas == 0
                        and self.api.peek("ReplicaSet", rs.metadata.namespace, rs.name)),
                       key=lambda rs: rs.revision)
        for rs in empty[:max(0, len(empty) - deployment.revision_history_limit)]:
            try:
                self.api.delete("ReplicaSet", rs.metadata.namespace, rs.name)
            except NotFound:
                pass

    def _update_status(self, deployment: Deployment, new: ReplicaSet,
                       old: list[ReplicaSet]) -> None:
        namespace = deployment.metadata.namespace
        now = [self.api.peek("ReplicaSet", namespace, rs.name) for rs in [new, *old]]
        now = [rs for rs in now if rs is not None]
        new_now = now[0] if now and now[0].name == new.name else None
        available = sum(rs.status.available_replicas for rs in now)
        status = (sum(rs.status.replicas for rs in now),
                  new_now.status.replicas if new_now else 0,
                  sum(rs.status.ready_replicas for rs in now), available,
                  max(deployment.replicas - available, 0))
        revision = str(new_now.revision) if new_now else None
        current = deployment.status
        if status == (current.replicas, current.updated_replicas, current.ready_replicas,
                      current.available_replicas, current.unavailable_replicas) and \
                deployment.metadata.annotations.get(REVISION) == revision:
            return

        def edit(stored: Deployment) -> None:
            s = stored.status
            s.replicas, s.updated_replicas, s.ready_replicas, s.available_replicas, \
                s.unavailable_replicas = status
            if revision is not None:
                stored.metadata.annotations[REVISION] = revision
        self.api.change("Deployment", namespace, deployment.name, edit, only=("status",))
