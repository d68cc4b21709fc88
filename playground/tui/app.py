"""The Textual app: build the lab, send packets, step through every hop."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static, Tree

from playground.cluster.cilium_views import bpf_panel
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.lab import build_default_lab
from playground.commands.table import find
from playground.dataplanes import compare_line
from playground.labs.catalogue import LESSONS
from playground.labs.lesson import tick
from playground.proxy.modes import mode_label
from playground.saves import (
    LabFileError,
    autosave,
    discard_recovery,
    pending_recovery,
)
from playground.session.lab import Lab
from playground.shell import ShellError
from playground.timefmt import iptables_date
from playground.tui.capture_export import export_pcap
from playground.tui.compare_view import CompareForm, CompareScreen, playing_trace
from playground.tui.completion import CommandSuggester, matches
from playground.tui.describe import describe
from playground.tui.forms import (
    AddMenu,
    DeleteForm,
    NewLabForm,
    ScaleForm,
    TrafficForm,
    delete_line,
    form_for,
)
from playground.tui.help import HelpScreen
from playground.tui.lab_file_actions import LabFileActions
from playground.tui.lab_files import LessonPicker, RestoreDialog
from playground.tui.layout import fit, fit_tree, show_topology
from playground.tui.lesson_notices import LessonNotices
from playground.tui.palette import system_commands
from playground.tui.player import Player
from playground.tui.policy_view import PolicyPanel
from playground.tui.send import SendForm
from playground.tui.topology import Marks
from playground.tui.widgets.command_input import CommandInput
from playground.tui.widgets.hop_detail import HopDetail
from playground.tui.widgets.hop_filter import HopFilterBar
from playground.tui.widgets.inspector import Inspector
from playground.tui.widgets.key_footer import KeyFooter
from playground.tui.widgets.lesson_pane import LessonPane
from playground.tui.widgets.objects_tree import ObjectsTree, spec_namespace
from playground.tui.widgets.path_strip import PathStrip
from playground.tui.widgets.timeline import HopFilter, Timeline, parse_key
from playground.tui.widgets.topology_view import TopologyView


class PlaygroundApp(LabFileActions, App):
    CSS_PATH = "app.tcss"
    TITLE = "k8s-playground"
    BINDINGS = [
        Binding("colon", "command_line", "Command", key_display=":"),
        Binding("s", "send", "Send"),
        Binding("r", "reply", "Reply"),
        Binding("space", "play", "Play"),
        Binding("right,n", "step", "Step", key_display="→"),
        Binding("left,p", "back", "Back", key_display="←"),
        Binding("home", "reset", "Reset", show=False),
        Binding("plus,equals_sign", "faster", "Faster", show=False),
        Binding("minus", "slower", "Slower", show=False),
        Binding("a", "add", "Add"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("c", "scale", "Scale"),
        Binding("t", "traffic", "Traffic"),
        Binding("d", "compare", "Compare"),
        # views: in the help, the palette, and the footer of the pane they belong to
        Binding("v", "toggle_topology", "Topology", show=False),
        Binding("z", "zoom", "Zoom", show=False),
        Binding("f", "filter", "Filter hops", show=False),
        Binding("slash", "search", "Search", key_display="/", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", key_display="[", show=False),
        Binding("right_square_bracket", "tab(1)", "Next tab", key_display="]", show=False),
        *[Binding(str(n), f"tab(0, {n})", f"Tab {n}", show=False) for n in range(1, 7)],
        Binding("w", "wrap", "Wrap lines", show=False),
        Binding("ctrl+n", "new_lab", "New lab"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "open", "Open", show=False),
        Binding("ctrl+l", "lessons", "Guided labs", show=False),
        Binding("h", "hint", "Hint", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, cni: str = "bridge", seed: int = 0, autoplay: bool = True,
                 lab: Lab | None = None, path: str | None = None,
                 load: str | None = None) -> None:
        super().__init__()
        self.cni, self.seed, self.autoplay = cni, seed, autoplay
        self.lab = lab  # a saved lab to open instead of the default one
        self.path = path  # where ctrl+s saves; None until saved or opened
        self.load = load  # a lab file to load behind a progress screen, instead of both
        self.load_error: str | None = None  # why that load failed; the app has then ended
        self.loading = False  # a lab file is loading: only quitting is possible
        self.dirty = False  # changed since the last save
        self.show_hint = False
        self.player = Player()
        self.selected: str | None = None
        self.output = ""  # the last command's answer, shown until the selection moves
        self.hop_filter = HopFilter()
        self.policy_panel = PolicyPanel()   # the Policy tab, which stars what a change turned
        self.follow_packet = False  # the inspector shows the packet's namespace, not the cursor
        self.compared: CompareScreen | None = None  # made by the compare form, shown once it closes
        self.notices = LessonNotices()

    @property
    def cluster(self) -> Cluster | None:
        return self.lab.cluster if self.lab else None

    @property
    def lesson(self):
        progress = self.lab.lesson if self.lab else None
        return next((x for x in LESSONS if progress and x.id == progress.lesson), None)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield LessonPane(id="lesson")
            yield ObjectsTree(id="objects")
            with Vertical(id="right"):
                with VerticalScroll(id="topology-scroll"):
                    yield TopologyView(id="topology")
                yield Static(Text("topology hidden to make room: v shows it", "dim"),
                             id="topology-note")
                yield PathStrip(id="path")
                yield Inspector(id="inspector")
        with Horizontal(id="bottom"):
            with Vertical(id="hops"):
                yield HopFilterBar(id="filter")
                yield Timeline(id="timeline")
            with VerticalScroll(id="detail-scroll"):
                yield HopDetail(id="detail")
        yield CommandInput(placeholder="kubectl get pods -o wide · trace pod/client svc/web · "
                                       "iptables-save -t nat   (Tab completes, ↑ history)",
                           id="command", suggester=CommandSuggester(lambda: self.cluster),
                           matches=lambda line: matches(line, self.cluster) if self.cluster
                           else [])
        yield Static(id="error")
        yield KeyFooter()

    async def on_mount(self) -> None:
        for widget in ("#command", "#error", "#filter", "#search", "#lesson"):
            self.query_one(widget).display = False
        self.query_one("#objects", ObjectsTree).border_title = "lab"
        self.query_one("#topology-scroll").border_title = "topology"
        self.query_one("#hops").border_title = "hops"
        fit(self, self.size.width, self.size.height)
        self.sub_title = "loading the lab"
        if self.load is not None:  # the first frame now; the lab when it is built
            self.run_worker(self._first_load(self.load))
            return
        opened = self.lab is not None
        if self.lab is None:
            self.lab = Lab(await build_default_lab(cni=self.cni, seed=self.seed))
        self._take_lab(self.lab)
        self.query_one("#objects", ObjectsTree).focus()
        recovery = None if opened else pending_recovery()
        if recovery is not None:
            self.push_screen(RestoreDialog(recovery), self._restore)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """While a lab loads there is no lab to act on: only quitting works."""
        return action == "quit" or not self.loading

    async def on_unmount(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()

    def _take_lab(self, lab: Lab) -> None:
        """Show this lab: its packets so far, its lesson, the layout it was saved with."""
        self.lab, self.player = lab, Player()
        box = self.query_one("#command", CommandInput)
        for action in lab.history:  # a loaded lab's journal, as if typed
            box.remember(action.line)
        for action in lab.history:
            if action.traces:
                self.player.load(action.traces, action.line, action.legs)
        self.notices = LessonNotices(seen_sent=self.player.sent)
        self._reload_timeline()
        layout = lab.layout
        self.selected = str(layout.get("selected", "node/kind-worker"))
        self.query_one("#topology", TopologyView).zoom = bool(layout.get("zoom", False))
        if isinstance(layout.get("theme"), str) and layout["theme"] in self.available_themes:
            self.theme = layout["theme"]
        self.show_hint = False
        self.show_lesson()
        self.refresh_lab()

    def show_lesson(self) -> None:
        pane = self.query_one("#lesson", LessonPane)
        lesson = self.lesson
        pane.display = lesson is not None
        fit_tree(self)
        if lesson is not None:
            measured = lesson.measure(self.lab) if lesson.measure is not None else ""
            pane.show(lesson, self.notices.shown_done(self.lab.lesson.done), self.show_hint,
                      measured)

    def on_resize(self, event: events.Resize) -> None:
        fit(self, event.size.width, event.size.height)

    def _name_lab(self) -> None:
        # the default mode goes unsaid, so only a lab that differs names its proxy
        proxy = "" if self.cluster.proxy_mode == "iptables" else \
            f" · kube-proxy {mode_label(self.cluster.proxy_mode)}"
        self.sub_title = f"CNI {self.cluster.cni.name}{proxy} · {len(self.cluster.nodes())} nodes"
        self.query_one("#inspector", Inspector).offer_ipvs(self.cluster.proxy_mode == "ipvs")

    # drawing

    def refresh_lab(self) -> None:
        """The lab itself changed: the tree too, not only what follows the packet."""
        self.query_one("#objects", ObjectsTree).rebuild(self.cluster)
        self._name_lab()
        self.refresh_view()

    def refresh_view(self) -> None:
        hop = self.player.current
        hops = self.player.hops
        place = hop.where if hop and self.follow_packet else self.cluster.place_of(
            spec_namespace(self.selected or ""))
        ns = self.cluster.network.find(place) if place else None
        inspector = self.query_one("#inspector", Inspector)
        inspector.show(ns, iptables_date(self.cluster.network.clock), hop,
                       self.output or describe(self.cluster, self.selected),
                       bpf=bpf_panel(self.cluster, ns.name) if ns is not None else None)
        inspector.border_title = place or self.selected or ""
        inspector.show_policy(self.policy_panel.text(self.cluster, self.selected))
        position = f"{self.player.index + 1}/{len(hops)}" if hop else ""
        self.query_one("#detail", HopDetail).show(hop, position)
        self.query_one("#path", PathStrip).show(hops, self.player.index)
        self.query_one("#topology", TopologyView).show(
            self.cluster.network, Marks.of(hops, self.player.index, self.selected))
        if hop is not None:
            self.query_one("#timeline", Timeline).show_hop(self.player.run, self.player.index)

    def select(self, spec: str) -> None:
        self.selected, self.output, self.follow_packet = spec, "", False
        self.query_one("#objects", ObjectsTree).show_selected(spec)
        self.refresh_view()
        if spec_namespace(spec) is None:  # a Service or a Deployment has no tables of its own
            self.query_one("#inspector", Inspector).active = "object-tab"

    # selection

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        # only the user's own moves select: the app moves the cursor too, to follow them
        if not event.control.moved_by_user(event.node) or self.cluster is None:
            return
        if event.node.data and event.node.data != self.selected:
            self.select(event.node.data)

    def on_topology_view_selected(self, event: TopologyView.Selected) -> None:
        self.select(event.spec)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Choosing a hop (enter or a click) moves the packet there."""
        run, index = parse_key(event.row_key.value)
        self.player.playing = False
        self.player.jump(max(index, 0), run)
        self._moved()

    # the command line

    def action_command_line(self) -> None:
        box = self.query_one("#command", CommandInput)
        box.display = True
        box.open()
        box.focus()

    def type_command(self, text: str) -> None:
        """The command line, open with this already typed (the palette's `:` commands)."""
        self.action_command_line()
        box = self.query_one("#command", CommandInput)
        box.value = text
        box.cursor_position = len(text)

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.query_one("#search", Input).has_focus:
            self.close_search()
            event.stop()
            return
        box = self.query_one("#command", Input)
        if not box.has_focus or self.lab is None:
            return
        if event.key == "escape":
            box.display = False
            self.query_one("#error").display = False
            self.query_one("#objects").focus()
            event.stop()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            found = self.query_one("#inspector", Inspector).find(event.value, onward=True)
            self.notify(f"{found} matching lines" if found else "no match")
            return
        if event.input.id != "command":
            return
        line = event.value.strip()
        event.input.value = ""
        if line:
            event.input.remember(line)  # failed or not, up brings it back
            await self.run_line(line)
        if not self.query_one("#error", Static).display:
            event.input.display = False
            self.query_one("#objects").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.query_one("#inspector", Inspector).find(event.value)

    async def run_line(self, line: str) -> None:
        """Run a command and show its error in one line under the command line."""
        error = self.query_one("#error", Static)
        problem = await self.run_lines([line])
        if problem:
            error.update(Text(f"✗ {problem}", "bold red"))
            error.display = True
        else:
            error.display = False

    async def run_lines(self, lines: list[str]) -> str | None:
        """Run commands in order, stopping at the first error, which is returned."""
        try:
            return await self._run_lines(lines)
        finally:
            await self._after_commands()

    async def _run_lines(self, lines: list[str]) -> str | None:
        for line in lines:
            command = find(line.split())
            if command is not None and command.run is None:  # on the lab as a whole
                problem = await self._app_command(command.name, line)
                if problem:
                    return problem
                continue
            try:
                result = await self.lab.run(line, self.selected_namespace_spec())
            except ShellError as problem:
                return str(problem)
            self.dirty = self.dirty or result.changed or bool(result.traces)
            if result.replaced:
                self._take_lab(Lab(self.lab.shell.cluster))  # a new lab, history and all
            if result.traces:
                self.play(result.traces, line, result.legs)
            if result.output and not result.traces:
                self.output = result.output
            if result.changed:
                self.refresh_lab()
            if result.created:
                self.select(result.created)  # what you just made is what you look at next
            elif result.output:
                self.refresh_view()
            if self.output:
                self.query_one("#inspector", Inspector).active = "object-tab"
        return None

    async def _after_commands(self) -> None:
        """Tick the lesson's tasks, and keep a recovery copy of a changed lab."""
        lesson = self.lesson
        if lesson is not None:
            self.notices.ticked(self, lesson, tick(lesson, self.lab))
            self.show_lesson()
        if self.dirty:
            self.lab.layout = self._layout()
            try:
                await autosave(self.lab)
            except LabFileError as problem:
                self.notify(str(problem), severity="warning")

    def _layout(self) -> dict[str, str | int | bool]:
        return {"selected": self.selected or "", "theme": self.theme,
                "zoom": self.query_one("#topology", TopologyView).zoom}

    async def _app_command(self, verb: str, line: str) -> str | None:
        """save [FILE], open FILE, lesson [ID]: they act on the app's lab as a whole."""
        try:
            args = shlex.split(line)[1:]
        except ValueError as error:
            return f"cannot read the command: {error}"
        if verb == "export pcap":
            return export_pcap(self, args[1:])
        if len(args) > 1:
            return f"{verb} takes one argument"
        if verb == "save":
            target = args[0] if args else self.path
            return await self.save_to(target) if target else "save FILE: name the file once"
        if verb == "open":
            return await self.open_from(args[0]) if args else "open FILE: name the file"
        if verb == "compare":
            return await self.compare(line)
        if not args:
            return "lesson ID: one of " + ", ".join(lesson.id for lesson in LESSONS)
        return await self.start_lesson(args[0])

    async def compare(self, line: str) -> str | None:
        """The packet on screen through another dataplane too, side by side."""
        try:
            comparison = await compare_line(self.lab, line, playing_trace(self.player))
        except (ClusterError, LabFileError) as problem:
            return str(problem)
        if comparison.caveat():
            self.notify(comparison.caveat(), severity="warning")
        self.compared = CompareScreen(comparison, self.player.current)
        if not isinstance(self.screen, CompareForm):  # else once the form has gone
            self._show_comparison()
        return None

    def _show_comparison(self, _=None) -> None:
        if self.compared is not None:
            self.push_screen(self.compared)
            self.compared = None

    def action_compare(self) -> None:
        if not self.player.hops:
            self.notify("send a packet first (s), then compare it", severity="warning")
            return
        self.push_screen(CompareForm(self.cluster), self._show_comparison)

    # lab files and lessons

    async def start_lesson(self, lesson_id: str) -> str | None:
        lesson = next((x for x in LESSONS if x.id == lesson_id), None)
        if lesson is None:
            return (f"no guided lab {lesson_id!r}: one of "
                    + ", ".join(x.id for x in LESSONS))
        old = self.lab
        self._take_lab(await lesson.start())
        self.path, self.dirty = None, True
        await old.close()
        return None

    def action_lessons(self) -> None:
        async def chosen(lesson_id: str | None) -> None:
            if lesson_id:
                await self.run_line(f"lesson {lesson_id}")
        self.push_screen(LessonPicker(), chosen)

    def action_hint(self) -> None:
        if self.lesson is not None:
            self.show_hint = True
            self.show_lesson()

    async def action_quit(self) -> None:
        if not self.dirty:
            discard_recovery()  # nothing unsaved to offer next time
        self.exit()

    def selected_namespace_spec(self) -> str | None:
        """The selected node, pod or internet host, which the node tools act on."""
        spec = self.selected
        if spec is None or spec.startswith("ns/") or spec_namespace(spec) is None:
            return None
        return spec

    # packets

    def play(self, traces, label: str = "", legs=None) -> None:
        self.player.load(traces, label, legs)
        self.follow_packet = True
        self._reload_timeline()
        self.refresh_view()
        if self.autoplay:
            self.action_play()

    def _reload_timeline(self) -> None:
        self.query_one("#timeline", Timeline).load(self.player.runs, self.hop_filter)

    def action_send(self) -> None:
        self.push_screen(SendForm(self.cluster, self.selected))

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
        self.refresh_view()
        self.notices.moved(self, self.lesson)

    # building the lab

    def action_add(self) -> None:
        def chosen(what: str | None) -> None:
            if what:
                self.push_screen(form_for(what, self.cluster))
        self.push_screen(AddMenu(), chosen)

    def action_add_form(self, what: str) -> None:
        self.push_screen(form_for(what, self.cluster))

    def action_delete(self) -> None:
        line = delete_line(self.selected or "")
        if line is None:
            self.notify("select a node, pod, Deployment, Service or Ingress to delete it",
                        severity="warning")
            return
        self.push_screen(DeleteForm(self.cluster, line))

    def action_scale(self) -> None:
        chosen = self.selected.rsplit("/", 1)[-1] if (self.selected or "").startswith(
            "deploy/") else None
        if not self.cluster.deployments_list("default"):
            self.notify("no Deployment to scale: add one with a", severity="warning")
            return
        self.push_screen(ScaleForm(self.cluster, chosen))

    def action_traffic(self) -> None:
        self.push_screen(TrafficForm(self.cluster))

    def action_new_lab(self) -> None:
        self.push_screen(NewLabForm(self.cluster))

    # views

    def action_toggle_topology(self) -> None:
        shown = not self.query_one("#topology-scroll").display
        show_topology(self, shown)
        if shown:
            self.query_one("#topology").focus()

    def action_zoom(self) -> None:
        self.query_one("#topology", TopologyView).action_zoom()

    def action_filter(self) -> None:
        bar = self.query_one("#filter", HopFilterBar)
        bar.display = not bar.display
        if bar.display:
            bar.offer(self.cluster, self.player.runs)
            bar.focus_first()
        else:
            self.hop_filter = HopFilter()
            self._reload_timeline()

    def on_hop_filter_bar_changed(self, event: HopFilterBar.Changed) -> None:
        self.hop_filter = event.hop_filter
        self._reload_timeline()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    def close_search(self) -> None:
        box = self.query_one("#search", Input)
        box.value, box.display = "", False
        self.query_one("#inspector", Inspector).find("")
        self.query_one("#objects").focus()

    def action_tab(self, step: int, number: int = 0) -> None:
        self.query_one("#inspector", Inspector).switch(step, number or None)

    def action_wrap(self) -> None:
        wrapped = self.query_one("#inspector", Inspector).toggle_wrap()
        self.notify("long lines wrap" if wrapped else "long lines cut (the lit one wraps)")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from system_commands(self)
