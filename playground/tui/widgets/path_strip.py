"""The packet's path as one line of namespaces, the packet glyph on the current one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from playground.net.trace import Hop


class PathStrip(Static):
    def show(self, hops: list[Hop], current: int) -> None:
        if not hops:
            self.update(Text("no packet in flight", "dim"))
            return
        places: list[str] = []
        for hop in hops:
            if not places or places[-1] != hop.where:
                places.append(hop.where)
        here = hops[current].where if 0 <= current < len(hops) else None
        seen = {hop.where for hop in hops[:current + 1]}
        text = Text()
        for number, place in enumerate(places):
            if number:
                text.append(" ─▶ ", "dim")
            short = place.split("/")[-1]
            if place == here:
                text.append(f"● {short}", "bold black on yellow")
            elif place in seen:
                text.append(short, "yellow")
            else:
                text.append(short, "dim")
        self.update(text)
