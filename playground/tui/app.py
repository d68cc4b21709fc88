"""The Textual app: the lab's nodes and pods, their tables, and packet traces."""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Static, TabbedContent, TabPane, Tree

from playground.cli import UsageError, build_parser
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.controllers.kubelet import node_namespace_name, pod_namespace_name
from playground.cluster.lab import build_default_lab
from playground.cluster.targets import send
from playground.net.netfilter import IptablesError
from playground.net.netns import NetError
from playground.timefmt import iptables_date
from playground.tui.help import HelpScreen

COMMAND_HELP = "trace SRC DST [--port N] [--proto tcp|udp|icmp]   e.g. trace pod/client pod/web-1"


class PlaygroundApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "k8s-playground"
    BINDINGS = [
        Binding("colon", "command_line", "Command", key_display=":"),
        Binding("t", "trace_selected", "Trace to selected"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, cni: str = "bridge", seed: int = 0) -> None:
        super().__init__()
        self.cni, self.seed = cni, seed
        self.cluster: Cluster | None = None
        self.selected: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield Tree("cluster", id="topology")
            with Vertical(id="right"):
                with TabbedContent(id="inspector"):
                    with TabPane("Routes", id="routes-tab"), VerticalScroll():
                        yield Static(id="routes", markup=False)
                    with TabPane("iptables", id="iptables-tab"):
                        with VerticalScroll():
                            yield Static(id="iptables", markup=False)
                    with TabPane("conntrack", id="conntrack-tab"):
                        with VerticalScroll():
                            yield Static(id="conntrack", markup=False)
                with VerticalScroll(id="trace-pane"):
                    yield Static("Press : and type a command, e.g. trace pod/client pod/web-1",
                                 id="trace", markup=False)
        yield Input(placeholder=COMMAND_HELP, id="command")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = f"loading the default lab ({self.cni})"
        self.cluster = await build_default_lab(cni=self.cni, seed=self.seed)
        self.sub_title = f"default lab · CNI {self.cni}"
        self.refresh_topology()
        self.query_one("#command", Input).display = False
        self.query_one("#topology", Tree).focus()

    async def on_unmount(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()

    def refresh_topology(self) -> None:
        tree = self.query_one("#topology", Tree)
        tree.clear()
        tree.root.expand()
        for node in self.cluster.nodes():
            label = Text.assemble((node.name, "bold"), f"  {node.status.internal_ip}",
                                  (f"  {node.spec.pod_cidr}", "dim"))
            branch = tree.root.add(label, data=f"node/{node.name}", expand=True)
            for pod in self.cluster.pods():
                if pod.spec.node_name == node.name:
                    spec = f"pod/{pod.metadata.namespace}/{pod.name}"
                    branch.add_leaf(Text.assemble(pod.name, (f"  {pod.status.pod_ip}", "cyan")),
                                    data=spec)
        self.select("node/kind-worker" if self.selected is None else self.selected)

    def select(self, spec: str) -> None:
        self.selected = spec
        kind, _, rest = spec.partition("/")
        if kind == "node":
            ns_name = node_namespace_name(rest)
        else:
            namespace, _, name = rest.partition("/")
            ns_name = pod_namespace_name(self.cluster.find_pod(name, namespace))
        ns = self.cluster.network.namespace(ns_name)
        self.query_one("#routes", Static).update(f"# ip route   ({ns.name})\n" + ns.ip_route())
        self.query_one("#iptables", Static).update(
            ns.netfilter.save(when=iptables_date(self.cluster.network.clock)))
        listing = ns.conntrack.listing()
        self.query_one("#conntrack", Static).update(
            listing + ns.conntrack.summary(len(ns.conntrack)))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            self.select(event.node.data)

    def action_command_line(self) -> None:
        box = self.query_one("#command", Input)
        box.display = True
        box.value = ""
        box.focus()

    def action_trace_selected(self) -> None:
        if self.selected and self.selected.startswith("pod/"):
            self.run_command(f"trace pod/default/client {self.selected}")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.query_one("#topology", Tree).focus()
        if event.value.strip():
            self.run_command(event.value)

    def run_command(self, line: str) -> None:
        try:
            self.query_one("#trace", Static).update(self.execute(line))
        except (ClusterError, NetError, IptablesError, UsageError, ValueError) as error:
            self.notify(str(error), severity="error")

    def execute(self, line: str) -> str:
        args = build_parser().parse_args(shlex.split(line))
        if args.command != "trace":
            raise ValueError(f"the command line runs traces for now: {COMMAND_HELP}")
        trace = send(self.cluster, args.src, args.dst, args.proto, args.port)
        if self.selected:
            self.select(self.selected)
        return trace.text()
