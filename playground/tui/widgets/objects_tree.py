"""The lab as a tree: nodes with their pods, Services, Deployments, Ingresses, the outside."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from playground.cluster.cloud import GATEWAY_NAMESPACE, INTERNET_NAMESPACE, LB_NAMESPACE
from playground.cluster.cluster import Cluster
from playground.cluster.service import slices_of
from playground.tui.layout import fit_tree

GROUP = 100  # a longer list is cut into closed groups of this many entries
LAZY_NODES = 12  # with more nodes than this, a node's pods are listed when it is opened


class ObjectsTree(Tree):
    """Each node's data is a target spec the rest of the app understands.

    A big lab is listed lazily: closed branches (groups of nodes or Services, a node's pods,
    a Service's endpoints) get their children only when opened, so a lab of 150,000 pods
    builds a few hundred tree nodes, not 150,000."""

    # space, left, right and home move the packet here too, as everywhere in the app
    BINDINGS = [Binding("space", "app.play", "Play", key_display="space"),
                Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__("lab", **kwargs)
        self.show_root = False
        self.placed: set = set()
        self.cluster: Cluster | None = None
        self._loaders: dict[TreeNode, Callable[[], None]] = {}  # closed, not yet filled
        self._branches: dict[str, TreeNode] = {}  # lazy branches by key
        self._keys: dict[TreeNode, str] = {}  # and the key of each
        self._parents: dict[str, str] = {}  # spec or key -> the lazy branch holding it
        self._by_data: dict[str, TreeNode] = {}  # the first entry of each spec
        self._opened: set[str] = set()  # lazy branches the user opened, kept on rebuild

    def rebuild(self, cluster: Cluster) -> None:
        cursor = self.cursor_node.data if self.cursor_node else None
        self.clear()
        self.cluster = cluster
        for index in (self.placed, self._loaders, self._branches, self._keys, self._parents,
                      self._by_data):
            index.clear()
        pods_by_node: dict[str, list] = defaultdict(list)
        waiting = []
        for pod in cluster.pods():
            if pod.spec.node_name:
                pods_by_node[pod.spec.node_name].append(pod)
            else:
                waiting.append(pod)
        nodes = cluster.nodes()
        lazy = len(nodes) > LAZY_NODES
        branch = self.root.add("Nodes", expand=True)
        self._many(branch, "nodes", nodes, lambda n: f"node/{n.name}", lambda parent, node:
                   self._node(parent, node, pods_by_node[node.name], lazy))
        if waiting:
            branch = branch.add(Text("not scheduled", "bold red"), expand=True)
            self._many(branch, "waiting", waiting, lambda p: f"pod/{p.key}",
                       lambda parent, pod: self._leaf(parent, Text.assemble(
                           _short(pod.key), (" Pending", "red")), f"pod/{pod.key}"))
        branch = self.root.add("Services", expand=True)
        self._many(branch, "services", cluster.services(), lambda s: f"svc/{s.key}",
                   self._service)
        deployments = cluster.deployments_list()
        if deployments:
            branch = self.root.add("Deployments", expand=True)
            for deployment in deployments:
                # kubectl's READY: its ReplicaSets' ready pods, terminating ones left out
                ready = deployment.status.ready_replicas
                self._leaf(branch, Text.assemble(_short(deployment.key),
                                                 (f" {ready}/{deployment.replicas}", "dim")),
                           f"deploy/{deployment.key}")
        ingresses = cluster.ingresses()
        if ingresses:
            branch = self.root.add("Ingresses", expand=True)
            for ingress in ingresses:
                hosts = ",".join(r.host or "*" for r in ingress.rules)
                self._leaf(branch, Text.assemble(_short(ingress.key), (f" {hosts}", "dim")),
                           f"ing/{ingress.key}")
        policies = cluster.network_policies()
        if policies:
            branch = self.root.add("NetworkPolicies", expand=True)
            unenforced = cluster.policy.status()
            for policy in policies:
                self._leaf(branch, Text.assemble(
                    _short(policy.key), (f" {policy.spec.pod_selector.text()}", "dim"),
                    *([(f" {unenforced}", "yellow")] if unenforced else [])),
                    f"netpol/{policy.key}")
        outside = self.root.add("Outside", expand=True)
        for name, role in ((INTERNET_NAMESPACE, "203.0.113.100"),
                           (LB_NAMESPACE, "cloud load balancer"),
                           (GATEWAY_NAMESPACE, "VPC internet gateway")):
            spec = "internet" if name == INTERNET_NAMESPACE else f"ns/{name}"
            self._leaf(outside, Text.assemble((name, "bold"), (f" {role}", "dim")), spec)
        self.show_selected(cursor)

    def watch_virtual_size(self) -> None:
        """Rows grew or shrank: the tree takes the width they need, within its share."""
        if self.is_attached and self.app.is_running:
            fit_tree(self.app)

    # building blocks

    def _leaf(self, parent: TreeNode, label: Text, data: str | None) -> TreeNode:
        node = parent.add_leaf(label, data=data)
        if data is not None:
            self._by_data.setdefault(data, node)
        return node

    def _lazy(self, parent: TreeNode, label: Text | str, key: str, data: str | None,
              fill: Callable[[TreeNode], None]) -> TreeNode:
        """A closed branch filled by `fill` when opened (at once if the user had it open)."""
        node = parent.add(label, data=data, allow_expand=True)
        if data is not None:
            self._by_data.setdefault(data, node)
        self._branches[key], self._keys[node] = node, key
        self._loaders[node] = lambda: fill(node)
        if key in self._opened:
            self._open(node)
        return node

    def _many(self, parent: TreeNode, key: str, items: list, spec_of: Callable[[object], str],
              add: Callable[[TreeNode, object], None]) -> None:
        """Items one by one, or in closed groups of GROUP when there are more."""
        if len(items) <= GROUP:
            for item in items:
                add(parent, item)
            return
        for start in range(0, len(items), GROUP):
            chunk = items[start:start + GROUP]
            group = f"{key}:{start}"
            for item in chunk:
                self._parents[spec_of(item)] = group
            label = Text.assemble(spec_of(chunk[0]).split("/", 1)[1], (" … ", "dim"),
                                  spec_of(chunk[-1]).split("/", 1)[1], (f"  {len(chunk)}", "dim"))
            self._lazy(parent, label, group, None,
                       lambda node, chunk=chunk: [add(node, item) for item in chunk])

    def _node(self, parent: TreeNode, node, pods: list, lazy: bool) -> None:
        spec = f"node/{node.name}"
        label = Text.assemble((node.name, "bold"))
        if lazy:  # the count first: it is what a closed node hides
            label.append(f" · {len(pods)} pod{'' if len(pods) == 1 else 's'}", "cyan")
        label.append(f" {node.status.internal_ip}", "dim")
        if lazy:
            self._lazy(parent, label, spec, spec, lambda branch: self._pods(branch, pods))
            return
        branch = parent.add(label, data=spec, expand=True)
        self._by_data.setdefault(spec, branch)
        self._pods(branch, pods)

    def _pods(self, branch: TreeNode, pods: list) -> None:
        for pod in pods:
            spec = f"pod/{pod.metadata.namespace}/{pod.name}"
            self._leaf(branch, Text.assemble(_short(pod.key), (
                f" {pod.status.pod_ip or 'pending'}", "cyan")), spec)

    def _service(self, parent: TreeNode, service) -> None:
        external = ",".join(service.status.load_balancer_ips)
        text = Text.assemble(_short(service.key), (f" {service.spec.type}", "dim"),
                             (f" {service.spec.cluster_ip}", "cyan"), (f" {external}", "magenta"))
        spec = f"svc/{service.key}"
        listed = [(e, s.ports[0].port if s.ports else "")
                  for s in slices_of(self.cluster.api, service.metadata.namespace, service.name)
                  for e in s.endpoints]
        if not listed:
            self._leaf(parent, text.append(" no endpoints", "bold red"), spec)
            return
        endpoints = [e for e, _port in listed]

        def fill(branch: TreeNode) -> None:
            for endpoint, port in listed:
                pod = (endpoint.target or "").removeprefix("default/")
                self._leaf(branch, Text.assemble(("endpoint ", "dim"),
                                                 f"{endpoint.address}:{port}", (f" {pod}", "dim")),
                           f"pod/{endpoint.target}" if endpoint.target else None)
        if len(endpoints) <= 4:
            branch = parent.add(text, data=spec, expand=True)
            self._by_data.setdefault(spec, branch)
            fill(branch)
            return
        self._lazy(parent, text.append(f" {len(endpoints)} endpoints", "dim"), spec, spec, fill)

    def _fill(self, node: TreeNode) -> None:
        loader = self._loaders.pop(node, None)
        if loader is not None:
            loader()

    def _open(self, node: TreeNode) -> None:
        self._fill(node)
        if not node.is_expanded:
            node.expand()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        key = self._keys.get(event.node)
        if key is not None:
            self._opened.add(key)
            self._fill(event.node)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed) -> None:
        self._opened.discard(self._keys.get(event.node))

    def _node_of_pod(self, data: str) -> str | None:
        """A pod sits in its node's branch; asked here, not stored for 150,000 pods."""
        namespace, _, name = data.removeprefix("pod/").partition("/")
        pod = self.cluster.api.peek("Pod", namespace, name) if data.startswith("pod/") and \
            self.cluster is not None else None
        return f"node/{pod.spec.node_name}" if pod is not None and pod.spec.node_name else None

    def reveal(self, data: str) -> TreeNode | None:
        """The entry for a spec, opening the lazy branches above it first."""
        chain, key = [], self._parents.get(data) or self._node_of_pod(data)
        while key is not None:
            chain.append(key)
            key = self._parents.get(key)
        for key in reversed(chain):  # each opened branch makes the next one
            if key in self._branches:
                self._open(self._branches[key])
        return self._by_data.get(data)

    def show_selected(self, data: str | None) -> None:
        """Put the cursor on the entry for this spec, once the tree has laid out its lines."""
        self.call_after_refresh(self._move_to, data)

    def _move_to(self, data: str | None, tries: int = 2) -> None:
        if data is None or (self.cursor_node is not None and self.cursor_node.data == data):
            return
        node = self.reveal(data)
        if node is None:
            return
        if node.line < 0:  # in a branch just opened: it has a line after the next refresh
            if tries:
                self.call_after_refresh(self._move_to, data, tries - 1)
            return
        self.placed.add(node)  # its highlight message is ours, not the user's
        self.move_cursor(node)

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
