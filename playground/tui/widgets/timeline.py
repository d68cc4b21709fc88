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
               "encapsulate": "bold yellow", "decapsulate": "bold yellow", "fragment": "yellow"}
VERDICT_STYLE = {"delivered": "green", "dropped": "red", "rejected": "red"}


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

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("#", "where", "event", "what happened")

    def load(self, runs: list[Run], keep: HopFilter = HopFilter()) -> None:
        self.clear()
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
                        self.add_row(f"{mark}{hop.index}", hop.where, Text(hop.event, style),
                                     hop.detail, key=row_key(number, index))
                    index += 1

    def show_hop(self, run: int, index: int) -> None:
        """Put the cursor on the row of this hop, if the filter lists it."""
        try:
            row = self.get_row_index(row_key(run, index))
        except RowDoesNotExist:  # filtered out: the cursor stays where it is
            return
        if row != self.cursor_row:
            self.move_cursor(row=row)
