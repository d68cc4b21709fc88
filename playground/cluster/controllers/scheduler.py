"""Binds pending pods to nodes: a deterministic spread (fewest pods, then name)."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.objects import Node, Pod


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, api: ApiServer) -> None:
        super().__init__()
        self.api = api

    def start(self) -> None:
        self.follow(self.api.watch("Pod"), self.on_pod)
        self.follow(self.api.watch("Node"), self.on_node)

    def on_pod(self, event: Event) -> None:
        if event.type != "DELETED" and event.object.spec.node_name is None:
            self.schedule(event.object.metadata.namespace, event.object.name)

    def on_node(self, event: Event) -> None:
        if event.type == "DELETED":
            return
        for pod in self.api.list("Pod"):
            if pod.spec.node_name is None:
                self.schedule(pod.metadata.namespace, pod.name)

    def schedule(self, namespace: str, name: str) -> None:
        pod = self.api.peek("Pod", namespace, name)
        if pod is None or pod.spec.node_name is not None:
            return
        nodes = [n for n in self.api.list("Node") if n.status.ready]
        fits = [n for n in nodes if untolerated(pod, n) is None]
        pod = self.api.get("Pod", namespace, name)
        if not fits:
            pod.status.reason = "Unschedulable"
            pod.status.message = unschedulable_message(pod, nodes)
            self.api.update(pod)
            return
        count = self.api.indexed_count
        chosen = min(fits, key=lambda n: (count("Pod", "node", n.name), n.name))
        pod.spec.node_name = chosen.name
        pod.status.reason = pod.status.message = ""
        self.api.update(pod)


def untolerated(pod: Pod, node: Node):
    for taint in node.spec.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(
            t.tolerates(taint) for t in pod.spec.tolerations
        ):
            return taint
    return None


def unschedulable_message(pod: Pod, nodes: list[Node]) -> str:
    """Worded like the scheduler's FailedScheduling event."""
    if not nodes:
        return "0/0 nodes are available: no nodes are ready to run pods"
    tainted: dict[str, int] = {}
    for node in nodes:
        taint = untolerated(pod, node)
        if taint is not None:
            text = f"{{{taint.key}: {taint.value}}}"
            tainted[text] = tainted.get(text, 0) + 1
    reasons = ", ".join(f"{count} node(s) had untolerated taint {text}"
                        for text, count in sorted(tainted.items()))
    return f"0/{len(nodes)} nodes are available: {reasons}."
