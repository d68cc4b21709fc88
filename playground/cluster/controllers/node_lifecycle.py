"""The node lifecycle controller: a node that turns NotReady is tainted
node.kubernetes.io/not-ready:NoExecute, and its pods are evicted once their toleration of it
runs out (the DefaultTolerationSeconds admission plugin gives every pod 300 s; a pod that
tolerates the taint itself stays); a deleted node's pods are deleted (the pod garbage
collector), so their ReplicaSets make new ones on the nodes that are left."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.controllers.replicaset import delete_gracefully
from playground.cluster.objects import NOT_READY_TAINT, Node, Pod, Taint
from playground.cluster.timers import LabTimers

NOT_READY = NOT_READY_TAINT
TOLERATION_SECONDS = 300   # --default-not-ready-toleration-seconds


def not_ready_taint(node: Node) -> Taint | None:
    return next((t for t in node.spec.taints if t.key == NOT_READY and t.effect == "NoExecute"),
                None)


def tolerates_forever(pod: Pod, taint: Taint) -> bool:
    """A toleration of its own (the lab's tolerations have no tolerationSeconds)."""
    return any(t.tolerates(taint) for t in pod.spec.tolerations)


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(self, api: ApiServer, timers: LabTimers, clock) -> None:
        super().__init__()
        self.api, self.timers, self.clock = api, timers, clock
        self.seen_ready: set[str] = set()   # a node registering is NotReady until its kubelet
        self.due: set[tuple[str, float]] = set()

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)

    def on_node(self, event: Event) -> None:
        node = event.object
        if event.type == "DELETED":
            self.seen_ready.discard(node.name)
            self._collect(node.name)
            return
        taint = not_ready_taint(node)
        if node.status.ready:
            self.seen_ready.add(node.name)
            if taint is not None:
                self.api.change("Node", "", node.name, _untaint)
            return
        if taint is None and node.name in self.seen_ready:
            now = self.clock()
            self.api.change("Node", "", node.name,
                            lambda stored: stored.spec.taints.append(
                                Taint(NOT_READY, "", "NoExecute", now)))
        elif taint is not None and taint.time_added is not None:
            self._evict_at(node.name, taint.time_added + TOLERATION_SECONDS)

    def _evict_at(self, name: str, when: float) -> None:
        key = (name, when)
        if key in self.due:
            return
        self.due.add(key)
        if when <= self.clock():
            self._evict(key)
        else:
            self.timers.at(when, lambda: self._evict(key))

    def _evict(self, key: tuple[str, float]) -> None:
        """The taint manager: the node's pods that do not tolerate the taint are deleted."""
        self.due.discard(key)
        node = self.api.peek("Node", "", key[0])
        taint = not_ready_taint(node) if node is not None else None
        if taint is None or taint.time_added + TOLERATION_SECONDS != key[1]:
            return   # ready again, or tainted again since
        for pod in self.api.indexed("Pod", "node", key[0]):
            if not pod.terminating and not tolerates_forever(pod, taint):
                delete_gracefully(self.api, pod, self.clock())

    def _collect(self, node: str) -> None:
        """PodGC: pods bound to a node that is gone are deleted at once."""
        for pod in self.api.indexed("Pod", "node", node):
            try:
                self.api.delete("Pod", pod.metadata.namespace, pod.name)
            except NotFound:
                pass


def _untaint(node: Node) -> None:
    node.spec.taints = [t for t in node.spec.taints
                        if not (t.key == NOT_READY and t.effect == "NoExecute")]
