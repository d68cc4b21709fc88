"""The packet's path as one line of namespaces, the packet glyph on the current one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from playground.net.trace import Hop
from playground.tui.widgets.timeline import short_place


class PathStrip(Static):
    def show(self, hops: list[Hop], current: int) -> None:
        if not hops:
            self.update(Text("no packet in flight", "dim"))
            return
        places: list[str] = []
        current_place = -1
        for number, hop in enumerate(hops):
            if not places or places[-1] != hop.where:
                places.append(hop.where)
            if number == current:
                current_place = len(places) - 1  # a place visited twice is lit only once
        text = Text()
        for number, place in enumerate(places):
            if number:
                text.append(" ─▶ ", "dim")
            short = short_place(place)
            if number == current_place:
                text.append(f"● {short}", "bold black on yellow")
            elif number < current_place:
                text.append(short, "yellow")
            else:
                text.append(short, "dim")
        self.update(text)
