"""The lab as a tree: nodes with their pods, Services, Deployments, Ingresses, the outside."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree

from playground.cluster.cloud import GATEWAY_NAMESPACE, INTERNET_NAMESPACE, LB_NAMESPACE
from playground.cluster.cluster import Cluster


class ObjectsTree(Tree):
    """Each node's data is a target spec the rest of the app understands."""

    # space, left, right and home move the packet here too, as everywhere in the app
    BINDINGS = [Binding("space", "app.play", "Play", key_display="space"),
                Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__("lab", **kwargs)
        self.show_root = False
        self.placed: set = set()

    def rebuild(self, cluster: Cluster) -> None:
        cursor = self.cursor_node.data if self.cursor_node else None
        self.clear()
        self.placed.clear()
        nodes = self.root.add("Nodes", expand=True)
        for node in cluster.nodes():
            label = Text.assemble((node.name, "bold"), (f" {node.status.internal_ip}", "dim"))
            branch = nodes.add(label, data=f"node/{node.name}", expand=True)
            for pod in cluster.pods():
                if pod.spec.node_name == node.name:
                    spec = f"pod/{pod.metadata.namespace}/{pod.name}"
                    text = Text.assemble(_short(pod.key),
                                         (f" {pod.status.pod_ip or 'pending'}", "cyan"))
                    branch.add_leaf(text, data=spec)
        waiting = [p for p in cluster.pods() if not p.spec.node_name]
        if waiting:
            branch = nodes.add(Text("not scheduled", "bold red"), expand=True)
            for pod in waiting:
                branch.add_leaf(Text.assemble(_short(pod.key), (" Pending", "red")),
                                data=f"pod/{pod.key}")
        services = self.root.add("Services", expand=True)
        for service in cluster.services():
            external = ",".join(service.status.load_balancer_ips)
            text = Text.assemble(_short(service.key), (f" {service.spec.type}", "dim"),
                                 (f" {service.spec.cluster_ip}", "cyan"),
                                 (f" {external}", "magenta"))
            slice_ = cluster.api.peek("EndpointSlice", service.metadata.namespace,
                                      service.name)
            endpoints = slice_.endpoints if slice_ else []
            if not endpoints:
                services.add_leaf(text.append(" no endpoints", "bold red"),
                                  data=f"svc/{service.key}")
                continue
            branch = services.add(text, data=f"svc/{service.key}",
                                  expand=len(endpoints) <= 4)
            port = slice_.ports[0].port if slice_.ports else ""
            for endpoint in endpoints:
                pod = (endpoint.target or "").removeprefix("default/")
                branch.add_leaf(Text.assemble(("endpoint ", "dim"), f"{endpoint.address}:{port}",
                                              (f" {pod}", "dim")),
                                data=f"pod/{endpoint.target}" if endpoint.target else None)
        deployments = cluster.deployments_list()
        if deployments:
            branch = self.root.add("Deployments", expand=True)
            for deployment in deployments:
                ready = sum(p.status.phase == "Running" for p in cluster.owned_pods(deployment))
                branch.add_leaf(Text.assemble(_short(deployment.key),
                                              (f" {ready}/{deployment.replicas}", "dim")),
                                data=f"deploy/{deployment.key}")
        ingresses = cluster.ingresses()
        if ingresses:
            branch = self.root.add("Ingresses", expand=True)
            for ingress in ingresses:
                hosts = ",".join(r.host or "*" for r in ingress.rules)
                branch.add_leaf(Text.assemble(_short(ingress.key), (f" {hosts}", "dim")),
                                data=f"ing/{ingress.key}")
        outside = self.root.add("Outside", expand=True)
        for name, role in ((INTERNET_NAMESPACE, "203.0.113.100"),
                           (LB_NAMESPACE, "cloud load balancer"),
                           (GATEWAY_NAMESPACE, "VPC internet gateway")):
            spec = "internet" if name == INTERNET_NAMESPACE else f"ns/{name}"
            outside.add_leaf(Text.assemble((name, "bold"), (f" {role}", "dim")), data=spec)
        self.show_selected(cursor)

    def show_selected(self, data: str | None) -> None:
        """Put the cursor on the entry for this spec, once the tree has laid out its lines."""
        self.call_after_refresh(self._move_to, data)

    def _move_to(self, data: str | None) -> None:
        if data is None or (self.cursor_node is not None and self.cursor_node.data == data):
            return
        for node in self._all_nodes():
            if node.data == data:
                self.placed.add(node)  # its highlight message is ours, not the user's
                self.move_cursor(node)
                return

    def moved_by_user(self, node) -> bool:
        """False for the highlight that show_selected itself caused."""
        if node in self.placed:
            self.placed.discard(node)
            return False
        return True

    def _all_nodes(self):
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _short(key: str) -> str:
    """default/web reads as web; other namespaces stay in the name."""
    return key.removeprefix("default/")


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
