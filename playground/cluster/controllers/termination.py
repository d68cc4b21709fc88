"""The end of a pod's graceful deletion: once its grace period has passed on the lab clock,
its kubelet has stopped it and the pod object goes (the lab's containers all outlast
SIGTERM, so every pod takes its whole grace period)."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.timers import LabTimers


class PodTermination(Controller):
    name = "pod-termination"

    def __init__(self, api: ApiServer, timers: LabTimers, clock) -> None:
        super().__init__()
        self.api, self.timers, self.clock = api, timers, clock
        self.due: set[tuple[str, str, str]] = set()   # pods with a timer set, by uid

    def start(self) -> None:
        self.follow(self.api.watch("Pod", lambda pod: pod.terminating), self.on_pod)

    def on_pod(self, event: Event) -> None:
        pod = event.object
        key = (pod.metadata.namespace, pod.name, pod.metadata.uid)
        if event.type == "DELETED" or key in self.due:
            return
        self.due.add(key)
        when = pod.metadata.deletion_timestamp
        if when <= self.clock():
            self.finish(key)
        else:
            self.timers.at(when, lambda: self.finish(key))

    def finish(self, key: tuple[str, str, str]) -> None:
        self.due.discard(key)
        namespace, name, uid = key
        pod = self.api.peek("Pod", namespace, name)
        if pod is not None and pod.metadata.uid == uid:
            try:
                self.api.delete("Pod", namespace, name)
            except NotFound:
                pass
