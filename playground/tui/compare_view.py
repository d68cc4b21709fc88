"""The compare mode: the packet on screen sent again through another dataplane, both walks
lined up row by row, stepped through together."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Select, Static

from playground.cluster.dataplane import Dataplane, choices
from playground.dataplanes import SideBySide
from playground.net.align import DIFFERS, ONLY_LEFT, ONLY_RIGHT, SAME, Row, outcome
from playground.net.align_text import GUTTER, devices
from playground.net.trace import Hop, Trace
from playground.tui.forms import FormScreen, _chosen, field
from playground.tui.player import Decision, Player
from playground.tui.widgets.hop_detail import HopDetail

STATUS_STYLE = {SAME: "", DIFFERS: "bold yellow", ONLY_LEFT: "bold cyan",
                ONLY_RIGHT: "bold cyan"}
NARROW = 110  # columns below which the table leaves out the place of each step
STATUS_WORDS = {SAME: "the same on both", DIFFERS: "taken differently",
                ONLY_LEFT: "only on {left}", ONLY_RIGHT: "only on {right}"}


def playing_trace(player: Player) -> Trace | None:
    """The leg (packet, reply, proxied connection) the hop on screen belongs to."""
    start, chosen = 0, False
    for trace in player.traces:
        if chosen or start <= player.index < start + len(trace.hops):
            if not isinstance(trace, Decision):
                return trace
            chosen = True  # on the choice of a leg: that leg
        start += len(trace.hops)
    return None


class CompareForm(FormScreen):
    TITLE = "Send this packet through another dataplane too"
    ACTION = "Compare"
    FOCUS = "#dataplane"

    def fields(self) -> ComposeResult:
        current = Dataplane.of(self.cluster)
        here = str(current)
        others = [spec for spec in choices() if spec != here] or [here]
        # another CNI under the same kube-proxy mode changes the most a packet can show
        first = next((spec for spec in others
                      if Dataplane.parse(spec).proxy_mode == current.proxy_mode), others[0])
        yield field("dataplane", Select([(spec, spec) for spec in others], value=first,
                                        allow_blank=False, id="dataplane"),
                    f"this lab runs {here}; a copy is built on the other")

    def lines(self) -> list[str]:
        return [f"compare {_chosen(self, '#dataplane')}"]


def _cell(hop: Hop | None) -> Text:
    if hop is None:
        return Text("")
    return Text.assemble(f"{hop.index:>3} ", (f"{hop.event:<9}", "bold"), f" {devices(hop)}")


class AlignedRows(DataTable):
    # left and right step both walks, as they step the packet in the main screen
    BINDINGS = [Binding("right", "screen.step(1)", "Step", show=False),
                Binding("left", "screen.step(-1)", "Back", show=False)]


class CompareScreen(ModalScreen):
    """Two walks of one packet, aligned; left and right step through both at once. Modal,
    so that the lab's own keys rest while it is open."""

    DEFAULT_CSS = """
    CompareScreen { background: $background; }
    #compare-title, #compare-differs { height: 1; padding: 0 1; }
    #compare-rows { height: 1fr; }
    #compare-hops { height: 45%; }
    .compare-side { width: 1fr; border: round $secondary; }
    .compare-side HopDetail { padding: 0 1; }
    #compare-verdicts { height: auto; padding: 0 1; }
    """

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back to the lab"),
                Binding("right,n", "step(1)", "Step", key_display="→"),
                Binding("left,p", "step(-1)", "Back", key_display="←"),
                Binding("d", "next_difference", "Next difference")]

    def __init__(self, comparison: SideBySide, hop: Hop | None = None) -> None:
        super().__init__()
        self.comparison = comparison
        rows = comparison.rows
        self.at = next((n for n, row in enumerate(rows) if hop is not None and row.left is hop),
                       0)

    @property
    def row(self) -> Row:
        return self.comparison.rows[self.at]

    def compose(self) -> ComposeResult:
        left, right = (str(p) for p in (self.comparison.left, self.comparison.right))
        trace = self.comparison.left_trace
        yield Static(Text.assemble(("same packet, two dataplanes  ", "bold"),
                                   f"{trace.packet.summary()} from {trace.source}"),
                     id="compare-title")
        yield AlignedRows(id="compare-rows", cursor_type="row", zebra_stripes=True)
        yield Static(id="compare-differs")
        with Horizontal(id="compare-hops"):
            for side, name in (("left", left), ("right", right)):
                with VerticalScroll(id=f"compare-{side}-scroll", classes="compare-side") as box:
                    box.border_title = name
                    yield HopDetail(name, id=f"compare-{side}")
        yield Static(id="compare-verdicts")
        yield Footer()

    def on_mount(self) -> None:
        comparison = self.comparison
        left, right = str(comparison.left), str(comparison.right)
        table = self.query_one("#compare-rows", DataTable)
        narrow = self.app.size.width < NARROW  # the step line under the table names the place
        table.add_columns("", *([] if narrow else ["where"]), left, right)
        for number, row in enumerate(comparison.rows):
            place = [] if narrow else [(row.left or row.right).where]
            table.add_row(Text(GUTTER[row.status], STATUS_STYLE[row.status]), *place,
                          _cell(row.left), _cell(row.right), key=str(number))
        width = max(len(left), len(right))
        self.query_one("#compare-verdicts", Static).update(Text("\n").join(
            Text.assemble((f"{name:<{width}}  ", "bold"), outcome(trace))
            for name, trace in ((left, comparison.left_trace),
                                (right, comparison.right_trace))))
        table.focus()
        table.move_cursor(row=self.at)
        self._show()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.at = event.cursor_row
        self._show()

    def _show(self) -> None:
        row = self.row
        names = {"left": str(self.comparison.left), "right": str(self.comparison.right)}
        words = STATUS_WORDS[row.status].format(**names)
        if row.differs:
            words += ": " + ", ".join(row.differs)
        place = (row.left or row.right).where
        self.query_one("#compare-differs", Static).update(Text.assemble(
            (f"{GUTTER[row.status]} ", STATUS_STYLE[row.status]),
            f"step {self.at + 1}/{len(self.comparison.rows)} in {place}: ",
            (words, STATUS_STYLE[row.status] or "dim")))
        for side, hop, trace in (("left", row.left, self.comparison.left_trace),
                                 ("right", row.right, self.comparison.right_trace)):
            detail = self.query_one(f"#compare-{side}", HopDetail)
            if hop is None:
                detail.show(None, empty=f"{names[side]} has no step here")
            else:
                detail.show(hop, f"{hop.index}/{len(trace.hops)}")

    def action_step(self, by: int) -> None:
        self.query_one("#compare-rows", DataTable).move_cursor(
            row=max(0, min(self.at + by, len(self.comparison.rows) - 1)))

    def action_next_difference(self) -> None:
        rows = self.comparison.rows
        later = [n for n in range(self.at + 1, len(rows)) if rows[n].status != SAME]
        if not later:
            self.notify("no difference after this step")
            return
        self.query_one("#compare-rows", DataTable).move_cursor(row=later[0])
