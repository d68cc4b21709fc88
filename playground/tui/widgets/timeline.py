"""Every hop of the packets sent so far, newest last; choosing a row moves the packet there."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from playground.tui.player import Run

EVENT_STYLE = {"nat": "bold magenta", "netfilter": "magenta", "ipvs": "magenta",
               "drop": "bold red", "reject": "bold red", "deliver": "bold green", "icmp": "red",
               "bridge": "cyan", "forward": "blue", "route": "blue", "bpf": "bold cyan",
               "nfqueue": "bold magenta",
               "encapsulate": "bold yellow", "decapsulate": "bold yellow", "fragment": "yellow"}
VERDICT_STYLE = {"delivered": "green", "dropped": "red", "rejected": "red"}
WHAT_ROOM = 40  # the "what happened" column never gets less; `where` is cut first
EVENT_ROOM = 11  # the longest event name, "encapsulate"


def short_place(where: str) -> str:
    """A namespace as the hop list names it: `kind-worker` for node/kind-worker, a pod's own
    name without its kind and namespace (the hop pane names it in full)."""
    return where.rsplit("/", 1)[-1]


def cut(text: str, room: int) -> str:
    """Text that fits room cells, its cut end marked."""
    return text if len(text) <= room else text[:max(room - 1, 0)] + "…"


@dataclass(frozen=True)
class HopFilter:
    """Which hops the timeline lists; None lets everything through."""

    where: str | None = None
    event: str | None = None
    verdict: str | None = None

    def keeps_run(self, run: Run) -> bool:
        return self.verdict is None or run.verdict == self.verdict

    def keeps(self, hop) -> bool:
        return ((self.where is None or hop.where == self.where)
                and (self.event is None or hop.event == self.event))

    @property
    def active(self) -> bool:
        return self != HopFilter()


def row_key(run: int, index: int) -> str:
    return f"{run}:{index}"


def parse_key(key: str) -> tuple[int, int]:
    run, index = key.split(":")
    return int(run), int(index)


class Timeline(DataTable):
    # left and right move the packet, as they do everywhere else in the app
    BINDINGS = [Binding("f", "app.filter", "Filter hops"),
                Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    runs: list[Run] = []
    keep = HopFilter()
    _width = 0  # the width the columns were laid out for

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.load([])

    @property
    def _room(self) -> int:
        """The width for the columns, the vertical scroll bar's room kept whether it is
        shown yet or not (a table that gains it must not gain a horizontal one too)."""
        return self.size.width - self.styles.scrollbar_size_vertical

    def on_resize(self) -> None:
        if self._room != self._width:
            self.load(self.runs, self.keep, keep_cursor=True)

    def _columns(self, places: list[str]) -> int:
        """Lay out the columns for this width: "what happened" takes what is left, at least
        WHAT_ROOM; the room `where` may take."""
        self._width = width = self._room
        padding = 2 * self.cell_padding * 4
        spare = width - padding - 3 - EVENT_ROOM - WHAT_ROOM
        where = max(8, min(spare, max((len(p) for p in places), default=5)))
        what = max(WHAT_ROOM, width - padding - 3 - EVENT_ROOM - where)
        self.clear(columns=True)
        for label, room in (("#", 3), ("where", where), ("event", EVENT_ROOM),
                            ("what happened", what)):
            self.add_column(label, width=room)
        return where

    def load(self, runs: list[Run], keep: HopFilter = HopFilter(),
             keep_cursor: bool = False) -> None:
        self.runs, self.keep = runs, keep
        row = self.cursor_row
        places = {short_place(hop.where) for run in runs for trace in run.traces
                  for hop in trace.hops}
        room = self._columns(sorted(places))
        for number, run in enumerate(runs):
            if not keep.keeps_run(run):
                continue
            self.add_row(f"#{run.number}", "", Text(run.verdict,
                                                    VERDICT_STYLE.get(run.verdict, "")),
                         Text(run.label, "bold"), key=row_key(number, -1))
            index = 0
            for leg, trace in enumerate(run.traces):
                for hop in trace.hops:
                    if keep.keeps(hop):
                        mark = "↩" if hop.role != "packet" else ("⇒" if leg else " ")
                        style = "bold magenta" if hop.rewrote else EVENT_STYLE.get(hop.event, "")
                        self.add_row(f"{mark}{hop.index}", cut(short_place(hop.where), room),
                                     Text(hop.event, style), hop.detail,
                                     key=row_key(number, index))
                    index += 1
        if keep_cursor and 0 <= row < self.row_count:
            self.move_cursor(row=row)

    def show_hop(self, run: int, index: int) -> None:
        """Put the cursor on the row of this hop, if the filter lists it."""
        try:
            row = self.get_row_index(row_key(run, index))
        except RowDoesNotExist:  # filtered out: the cursor stays where it is
            return
        if row != self.cursor_row:
            self.move_cursor(row=row)
