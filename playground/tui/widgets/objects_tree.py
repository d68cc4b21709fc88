"""The lab as a tree: nodes with their pods, Services, Deployments, Ingresses, the outside."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree

from playground.cluster.cloud import GATEWAY_NAMESPACE, INTERNET_NAMESPACE, LB_NAMESPACE
from playground.cluster.cluster import Cluster

PACKET = "●"


class ObjectsTree(Tree):
    """Each node's data is a target spec the rest of the app understands."""

    # space, left, right and home move the packet here too, as everywhere in the app
    BINDINGS = [Binding("space", "app.play", "Play/pause", key_display="space"),
                Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__("lab", **kwargs)
        self.show_root = False
        self.packet_at: str | None = None  # the namespace the packet is in now

    def rebuild(self, cluster: Cluster) -> None:
        cursor = self.cursor_node.data if self.cursor_node else None
        self.clear()
        nodes = self.root.add("Nodes", expand=True)
        for node in cluster.nodes():
            label = Text.assemble((node.name, "bold"), f" {node.status.internal_ip}",
                                  (f" {node.spec.pod_cidr or ''}", "dim"))
            branch = nodes.add(self._mark(label, f"node/{node.name}"),
                               data=f"node/{node.name}", expand=True)
            for pod in cluster.pods():
                if pod.spec.node_name == node.name:
                    spec = f"pod/{pod.metadata.namespace}/{pod.name}"
                    text = Text.assemble(pod.name, (f" {pod.status.pod_ip or 'pending'}", "cyan"))
                    branch.add_leaf(self._mark(text, spec), data=spec)
        services = self.root.add("Services", expand=True)
        for service in cluster.services():
            external = ",".join(service.status.load_balancer_ips)
            text = Text.assemble(service.key, (f" {service.spec.type}", "dim"),
                                 (f" {service.spec.cluster_ip}", "cyan"),
                                 (f" {external}", "magenta"))
            services.add_leaf(text, data=f"svc/{service.key}")
        deployments = cluster.deployments_list()
        if deployments:
            branch = self.root.add("Deployments", expand=True)
            for deployment in deployments:
                ready = sum(p.status.phase == "Running" for p in cluster.owned_pods(deployment))
                branch.add_leaf(Text.assemble(deployment.key,
                                              (f" {ready}/{deployment.replicas}", "dim")),
                                data=f"deploy/{deployment.key}")
        ingresses = cluster.ingresses()
        if ingresses:
            branch = self.root.add("Ingresses", expand=True)
            for ingress in ingresses:
                hosts = ",".join(r.host or "*" for r in ingress.rules)
                branch.add_leaf(Text.assemble(ingress.key, (f" {hosts}", "dim")),
                                data=f"ing/{ingress.key}")
        outside = self.root.add("Outside", expand=True)
        for name, role in ((INTERNET_NAMESPACE, "203.0.113.100"),
                           (LB_NAMESPACE, "cloud load balancer"),
                           (GATEWAY_NAMESPACE, "VPC internet gateway")):
            spec = "internet" if name == INTERNET_NAMESPACE else f"ns/{name}"
            outside.add_leaf(self._mark(Text.assemble((name, "bold"), (f" {role}", "dim")),
                                        spec), data=spec)
        self._restore_cursor(cursor)

    def _mark(self, label: Text, spec: str) -> Text:
        if self.packet_at is not None and spec_namespace(spec) == self.packet_at:
            return Text.assemble((f"{PACKET} ", "bold yellow"), label)
        return label

    def _restore_cursor(self, data) -> None:
        if data is None:
            return
        for node in self._all_nodes():
            if node.data == data:
                self.move_cursor(node)
                return

    def _all_nodes(self):
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def spec_namespace(spec: str) -> str | None:
    """The network namespace a tree entry stands for, if any."""
    if spec.startswith("node/"):
        return f"node/{spec[5:]}"
    if spec.startswith("pod/"):
        return spec
    if spec == "internet":
        return INTERNET_NAMESPACE
    if spec.startswith("ns/"):
        return spec[3:]
    return None
