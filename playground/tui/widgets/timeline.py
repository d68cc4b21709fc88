"""The hop list of the current traces; choosing a row moves the packet there."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from playground.net.trace import Trace

EVENT_STYLE = {"nat": "bold magenta", "netfilter": "magenta", "drop": "bold red",
               "reject": "bold red", "deliver": "bold green", "icmp": "red",
               "bridge": "cyan", "forward": "blue", "route": "blue"}


class Timeline(DataTable):
    # left and right move the packet, as they do everywhere else in the app
    BINDINGS = [Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("#", "where", "event", "what happened")

    def load(self, traces: list[Trace]) -> None:
        self.clear()
        for leg, trace in enumerate(traces):
            for hop in trace.hops:
                mark = "↩" if hop.role != "packet" else ("⇒" if leg else " ")
                style = EVENT_STYLE.get(hop.event, "")
                if hop.rewrote:
                    style = "bold magenta"
                self.add_row(f"{mark}{hop.index}", hop.where, Text(hop.event, style), hop.detail)
