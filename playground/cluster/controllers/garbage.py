"""The garbage collector: when an owner is deleted, its dependents go too (background
propagation, kubectl delete's default): a Deployment's ReplicaSets, a ReplicaSet's, a
DaemonSet's or a StatefulSet's pods."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.controllers.replicaset import delete_gracefully

OWNERS = {"Deployment": "ReplicaSet", "ReplicaSet": "Pod",   # owner kind -> dependents
          "DaemonSet": "Pod", "StatefulSet": "Pod"}


class GarbageCollector(Controller):
    name = "garbage-collector"

    def __init__(self, api: ApiServer, clock) -> None:
        super().__init__()
        self.api, self.clock = api, clock

    def start(self) -> None:
        for kind in OWNERS:
            self.follow(self.api.watch(kind, replay=False), self.on_owner)

    def on_owner(self, event: Event) -> None:
        if event.type != "DELETED":
            return
        owner = event.object
        kind = OWNERS[owner.kind]
        namespace = owner.metadata.namespace
        for dependent in self.api.indexed(kind, "owner", (namespace, owner.kind, owner.name)):
            if dependent.metadata.controller_ref().uid != owner.metadata.uid:
                continue
            if kind == "Pod":
                delete_gracefully(self.api, dependent, self.clock())
            else:
                try:
                    self.api.delete(kind, namespace, dependent.name)
                except NotFound:
                    pass
