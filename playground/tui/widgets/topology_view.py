"""The drawn topology: click or arrow to a box line to select it, z to zoom into devices."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.widget import Widget

from playground.net.network import Network
from playground.tui.topology import Marks, Picture
from playground.tui.topology_aggregate import NodeSummary, census, picture_of


class TopologyView(Widget, can_focus=True):
    BINDINGS = [Binding("z", "zoom", "Zoom"),
                Binding("down,j", "move(1)", "Next", show=False),
                Binding("up,k", "move(-1)", "Previous", show=False),
                Binding("space", "app.play", "Play/pause", show=False),
                Binding("right", "app.step", "Step", show=False),
                Binding("left", "app.back", "Back", show=False),
                Binding("home", "app.reset", "Reset", show=False)]

    class Selected(Message):
        def __init__(self, spec: str) -> None:
            super().__init__()
            self.spec = spec

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network: Network | None = None
        self.marks = Marks()
        self.zoom = False
        self._picture: Picture | None = None
        self._drawn_for: tuple | None = None
        self._census: tuple[int, list[NodeSummary]] | None = None  # by network generation

    def show(self, network: Network, marks: Marks) -> None:
        self.network, self.marks = network, marks
        self._picture = None
        self.refresh(layout=True)
        self.call_after_refresh(self._scroll_to_packet)

    def picture(self, width: int) -> Picture:
        if self._picture is None or self._drawn_for != (width, self.zoom):
            if self.network is None:
                return Picture([], [])
            self._picture = picture_of(self.network, width, self.marks, self.zoom,
                                       self.nodes())
            self._drawn_for = (width, self.zoom)
        return self._picture

    def nodes(self) -> list[NodeSummary]:
        """Every node and its pod count, counted again only when the network changed."""
        generation = self.network.generation
        if self._census is None or self._census[0] != generation:
            self._census = (generation, census(self.network))
        return self._census[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self.picture(width).lines), 1)

    def render(self) -> Text:
        return Text("\n").join(self.picture(self.size.width).lines)

    def _scroll_to_packet(self) -> None:
        """Keep the packet (or the selection) in view when the pane is short."""
        picture = self.picture(self.size.width)
        for y, line in enumerate(picture.lines):
            if "●" in line.plain:
                self._show_line(y)
                return
        chosen = [hit.y for hit in picture.hits if hit.spec == self.marks.selected]
        if chosen:  # the last is the most detailed: in a big lab, the node's own box
            self._show_line(chosen[-1])

    def _show_line(self, y: int) -> None:
        """The pane that scrolls is the container this view fills from its top."""
        self.parent.scroll_to_region(Region(0, y, 1, 1), animate=False, immediate=True)

    def action_zoom(self) -> None:
        self.zoom = not self.zoom
        self._picture = None
        self.refresh(layout=True)
        self.notify("zoomed in: veths and bridge ports" if self.zoom else "zoomed out")

    def _specs(self) -> list[str]:
        seen: list[str] = []
        for hit in sorted(self.picture(self.size.width).hits, key=lambda h: (h.y, h.x0)):
            if hit.spec not in seen:
                seen.append(hit.spec)
        return seen

    def action_move(self, step: int) -> None:
        specs = self._specs()
        if not specs:
            return
        at = specs.index(self.marks.selected) if self.marks.selected in specs else -step
        self.post_message(self.Selected(specs[(at + step) % len(specs)]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for hit in self.picture(self.size.width).hits:
            if hit.y == offset.y and hit.x0 <= offset.x < hit.x1:
                self.post_message(self.Selected(hit.spec))
                return
