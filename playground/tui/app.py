"""The Textual app: build the lab, send packets, step through every hop."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree

from playground.cluster.cluster import Cluster
from playground.cluster.lab import build_default_lab
from playground.shell import COMMANDS, Shell, ShellError
from playground.timefmt import iptables_date
from playground.tui.describe import describe
from playground.tui.help import HelpScreen
from playground.tui.player import Player
from playground.tui.send import SendScreen
from playground.tui.widgets.hop_detail import HopDetail
from playground.tui.widgets.inspector import Inspector
from playground.tui.widgets.objects_tree import ObjectsTree, spec_namespace
from playground.tui.widgets.path_strip import PathStrip
from playground.tui.widgets.timeline import Timeline

SUGGESTIONS = [c.split(" [")[0].replace("NAME", "").strip() for c in COMMANDS] + [
    "kubectl get pods -o wide", "kubectl get svc", "kubectl get deployments",
    "trace pod/client svc/web", "trace pod/client internet", "trace internet lb/",
]


class PlaygroundApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "k8s-playground"
    BINDINGS = [
        Binding("colon", "command_line", "Command", key_display=":"),
        Binding("s", "send", "Send packet"),
        Binding("r", "reply", "Reply"),
        Binding("space", "play", "Play/pause"),
        Binding("right,n", "step", "Step"),
        Binding("left,p", "back", "Back"),
        Binding("home", "reset", "Reset", show=False),
        Binding("plus,equals_sign", "faster", "Faster", show=False),
        Binding("minus", "slower", "Slower", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, cni: str = "bridge", seed: int = 0, autoplay: bool = True) -> None:
        super().__init__()
        self.cni, self.seed, self.autoplay = cni, seed, autoplay
        self.cluster: Cluster | None = None
        self.shell: Shell | None = None
        self.player = Player()
        self.selected: str | None = None
        self.history_at = 0
        self.follow_packet = False  # the inspector shows the packet's namespace, not the cursor

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield ObjectsTree(id="objects")
            with Vertical(id="right"):
                yield Inspector(id="inspector")
                yield PathStrip(id="path")
                with Horizontal(id="bottom"):
                    yield Timeline(id="timeline")
                    with VerticalScroll(id="detail-scroll"):
                        yield HopDetail(id="detail")
        yield Input(placeholder="kubectl get pods -o wide · trace pod/client svc/web · "
                                "iptables-save -t nat   (Tab completes, ↑ history)",
                    id="command", suggester=SuggestFromList(SUGGESTIONS, case_sensitive=False))
        yield Static(id="error")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = f"loading the default lab ({self.cni})"
        self.cluster = await build_default_lab(cni=self.cni, seed=self.seed)
        self.shell = Shell(self.cluster)
        self.sub_title = f"default lab · CNI {self.cni}"
        self.query_one("#command", Input).display = False
        self.query_one("#error", Static).display = False
        self.query_one("#objects", ObjectsTree).border_title = "lab"
        self.query_one("#timeline", Timeline).border_title = "hops"
        self.query_one("#detail-scroll").border_title = "hop"
        self.selected = "node/kind-worker"
        self.refresh_all()
        self.query_one("#objects", ObjectsTree).focus()

    async def on_unmount(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()

    # drawing

    def refresh_all(self) -> None:
        tree = self.query_one("#objects", ObjectsTree)
        hop = self.player.current
        tree.packet_at = hop.where if hop else None
        tree.rebuild(self.cluster)
        self.refresh_view()

    def refresh_view(self) -> None:
        hop = self.player.current
        hops = [h for _, h in self.player.hops]
        place = hop.where if hop and self.follow_packet else spec_namespace(self.selected or "")
        ns = self.cluster.network.namespaces.get(place) if place else None
        inspector = self.query_one("#inspector", Inspector)
        inspector.show(ns, iptables_date(self.cluster.network.clock), hop,
                       describe(self.cluster, self.selected))
        inspector.border_title = place or self.selected or ""
        position = f"{self.player.index + 1}/{len(hops)}" if hop else ""
        self.query_one("#detail", HopDetail).show(hop, position)
        self.query_one("#path", PathStrip).show(hops, self.player.index)
        timeline = self.query_one("#timeline", Timeline)
        if hop is not None and timeline.cursor_row != self.player.index:
            timeline.move_cursor(row=self.player.index)

    # selection

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data and self.cluster is not None:
            self.selected = event.node.data
            self.follow_packet = False
            self.refresh_view()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Choosing a hop (enter or a click) moves the packet there."""
        if event.cursor_row != self.player.index and self.player.hops:
            self.player.playing = False
            self.player.jump(event.cursor_row)
            self._moved()

    # the command line

    def action_command_line(self) -> None:
        box = self.query_one("#command", Input)
        box.display = True
        box.value = ""
        self.history_at = len(self.shell.history) if self.shell else 0
        box.focus()

    def on_key(self, event) -> None:
        box = self.query_one("#command", Input)
        if not box.has_focus or self.shell is None:
            return
        if event.key == "escape":
            box.display = False
            self.query_one("#objects").focus()
            event.stop()
        elif event.key in ("up", "down") and self.shell.history:
            step = -1 if event.key == "up" else 1
            self.history_at = max(0, min(len(self.shell.history), self.history_at + step))
            history = self.shell.history
            box.value = history[self.history_at] if self.history_at < len(history) else ""
            box.cursor_position = len(box.value)
            event.stop()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        event.input.value = ""
        if line:
            await self.run_line(line)
        if not self.query_one("#error", Static).display:
            event.input.display = False
            self.query_one("#objects").focus()

    async def run_line(self, line: str) -> None:
        error = self.query_one("#error", Static)
        try:
            result = await self.shell.run(line, self.selected_namespace_spec())
        except ShellError as problem:
            error.update(Text(f"✗ {problem}", "bold red"))
            error.display = True
            return
        error.display = False
        if result.traces:
            self.play(result.traces)
        if result.changed:
            self.refresh_all()
        if result.output and not result.traces:
            inspector = self.query_one("#inspector", Inspector)
            inspector.query_one("#object", Static).update(result.output)
            inspector.active = "object-tab"

    def selected_namespace_spec(self) -> str | None:
        """The selected node, pod or internet host, which the node tools act on."""
        spec = self.selected
        if spec is None or spec.startswith("ns/") or spec_namespace(spec) is None:
            return None
        return spec

    # packets

    def play(self, traces) -> None:
        self.player.load(traces)
        self.follow_packet = True
        self.query_one("#timeline", Timeline).load(traces)
        self.refresh_all()
        if self.autoplay:
            self.action_play()

    def action_send(self) -> None:
        self.push_screen(SendScreen(self.cluster), self.sent)

    async def sent(self, line: str | None) -> None:
        if line:
            await self.run_line(line)

    async def action_reply(self) -> None:
        await self.run_line("reply")

    def action_play(self) -> None:
        if not self.player.hops:
            return
        self.player.playing = not self.player.playing
        if self.player.playing:
            if self.player.index + 1 >= len(self.player.hops):
                self.player.reset()
                self.player.playing = True
            self.set_timer(self.player.seconds_per_hop, self._tick)

    def _tick(self) -> None:
        if self.player.playing and self.player.step():
            self._moved()
            self.set_timer(self.player.seconds_per_hop, self._tick)

    def action_step(self) -> None:
        self.player.playing = False
        if self.player.step():
            self._moved()

    def action_back(self) -> None:
        self.player.playing = False
        if self.player.back():
            self._moved()

    def action_reset(self) -> None:
        self.player.reset()
        self._moved()

    def action_faster(self) -> None:
        self.player.faster()
        self.notify(f"{self.player.seconds_per_hop:g} s per hop")

    def action_slower(self) -> None:
        self.player.slower()
        self.notify(f"{self.player.seconds_per_hop:g} s per hop")

    def _moved(self) -> None:
        self.follow_packet = True
        self.refresh_all()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Send a packet", "Pick a source and a destination",
                            self.action_send)
        yield SystemCommand("Trace the reply", "Answer the last packet", self.action_reply)
        yield SystemCommand("Command line", "kubectl, trace, ip route, iptables-save ...",
                            self.action_command_line)
        yield SystemCommand("Step forward", "Move the packet one hop", self.action_step)
        yield SystemCommand("Step back", "Move the packet back one hop", self.action_back)
        yield SystemCommand("Play / pause", "Animate the packet", self.action_play)
        yield SystemCommand("Help", "Keys and commands", self.action_help)

