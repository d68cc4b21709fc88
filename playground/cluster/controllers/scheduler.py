"""Binds pending pods to nodes: a deterministic spread (fewest pods, then name)."""

from __future__ import annotations

import heapq

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.objects import ContainerPort, Node, Pod


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, api: ApiServer) -> None:
        super().__init__()
        self.api = api
        # (pods on the node, node name), pushed again on every change of either; an entry
        # whose count is no longer the node's is stale and skipped, so the top is the least
        # loaded node without a scan of all of them
        self.heap: list[tuple[int, str]] = []
        self.pending: set[tuple[str, str]] = set()   # pods no node could take yet
        self.touched: set[str] = set()   # nodes whose pod count changed since the last look

    def start(self) -> None:
        self.api.index_listeners.setdefault(("Pod", "node"), []).append(self._load_changed)
        for node in self.api.list("Node"):
            self._load_changed(node.name)
        # only pods waiting for a node (a bound pod never comes back to the scheduler)
        self.follow(self.api.watch("Pod", lambda pod: pod.spec.node_name is None), self.on_pod)
        self.follow(self.api.watch("Node"), self.on_node)

    def _load_changed(self, node: str | None) -> None:
        if node is not None:   # looked at when a pod is next scheduled, not per pod stored
            self.touched.add(node)

    def _push_touched(self) -> None:
        for node in self.touched:   # the heap orders them, whatever the order pushed
            heapq.heappush(self.heap, (self.api.indexed_count("Pod", "node", node), node))
        self.touched.clear()
        if len(self.heap) > 8 * self.api.count("Node") + 1024:   # mostly stale: start afresh
            count = self.api.indexed_count
            self.heap = [(count("Pod", "node", n.name), n.name) for n in self.api.list("Node")]
            heapq.heapify(self.heap)

    def _least_loaded(self, pod: Pod):
        """The ready node that tolerates the pod with the fewest pods, then by name."""
        self._push_touched()
        aside, chosen = [], None
        while self.heap:
            count, name = self.heap[0]
            node = self.api.peek("Node", "", name)
            if node is None or count != self.api.indexed_count("Pod", "node", name):
                heapq.heappop(self.heap)   # stale, or the node is gone
                continue
            if node.status.ready and untolerated(pod, node) is None and selected(pod, node) \
                    and self.free_ports(pod, node):
                chosen = node
                break
            aside.append(heapq.heappop(self.heap))
        for entry in aside:
            heapq.heappush(self.heap, entry)
        return chosen

    def on_pod(self, event: Event) -> None:
        pod = event.object
        key = (pod.metadata.namespace, pod.name)
        if event.type != "DELETED" and pod.spec.node_name is None:
            self.pending.add(key)
            self.schedule(*key)
        else:
            self.pending.discard(key)

    def on_node(self, event: Event) -> None:
        """A node joined or changed: the pods waiting for one may fit now."""
        if event.type == "DELETED":
            return
        self._load_changed(event.object.name)
        for key in sorted(self.pending):
            self.schedule(*key)

    def schedule(self, namespace: str, name: str) -> None:
        pod = self.api.peek("Pod", namespace, name)
        if pod is None or pod.spec.node_name is not None:
            self.pending.discard((namespace, name))
            return
        chosen = self._least_loaded(pod)
        if chosen is None:
            nodes = [n for n in self.api.list("Node") if n.status.ready]
            message = unschedulable_message(pod, nodes, self.free_ports)
            if (pod.status.reason, pod.status.message) == ("Unschedulable", message):
                return   # said already: writing it again would wake this watch again

            def unschedulable(pod: Pod) -> None:
                pod.status.reason, pod.status.message = "Unschedulable", message
            self.api.change("Pod", namespace, name, unschedulable)
            return

        def bind(pod: Pod) -> None:
            pod.spec.node_name = chosen.name
            pod.status.reason = pod.status.message = ""
        # the spec's own fields are copied, its containers and volumes are shared
        self.api.change("Pod", namespace, name, bind, only=("status",), shallow=("spec",))
        self.pending.discard((namespace, name))


    def free_ports(self, pod: Pod, node: Node) -> bool:
        """The NodePorts filter: no pod on the node holds one of its hostPorts."""
        wanted = pod.host_ports()
        if not wanted:
            return True
        used = [p for other in self.api.indexed("Pod", "node", node.name)
                for p in other.host_ports()]
        return not any(ports_conflict(a, b) for a in wanted for b in used)


def ports_conflict(a: ContainerPort, b: ContainerPort) -> bool:
    """HostPortInfo.CheckConflict: one protocol and port, and one hostIP or either 0.0.0.0."""
    any_ip = ("", "0.0.0.0")
    return a.host_port == b.host_port and a.protocol == b.protocol and (
        a.host_ip == b.host_ip or a.host_ip in any_ip or b.host_ip in any_ip)


def untolerated(pod: Pod, node: Node):
    for taint in node.spec.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(
            t.tolerates(taint) for t in pod.spec.tolerations
        ):
            return taint
    return None


def selected(pod: Pod, node: Node) -> bool:
    """spec.nodeSelector: every label it names, on the node."""
    labels = node.metadata.labels
    return all(labels.get(k) == v for k, v in pod.spec.node_selector.items())


def unschedulable_message(pod: Pod, nodes: list[Node], free_ports=lambda pod, node: True) -> str:
    """Worded like the scheduler's FailedScheduling event (its reasons sorted, as the
    framework sorts them); each node counts for the first filter it fails."""
    if not nodes:
        return "0/0 nodes are available: no nodes are ready to run pods"
    reasons: dict[str, int] = {}
    for node in nodes:
        taint = untolerated(pod, node)
        if taint is not None:
            text = f"had untolerated taint {{{taint.key}: {taint.value}}}"
        elif not selected(pod, node):
            text = "didn't match Pod's node affinity/selector"
        elif not free_ports(pod, node):
            text = "didn't have free ports for the requested pod ports"
        else:
            continue
        reasons[text] = reasons.get(text, 0) + 1
    shown = ", ".join(sorted(f"{count} node(s) {text}" for text, count in reasons.items()))
    return f"0/{len(nodes)} nodes are available: {shown}."
