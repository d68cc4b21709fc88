"""A long text shown a screenful at a time: only the visible lines are ever styled and drawn.

A node of a big cluster has a hundred thousand iptables lines; building one rich Text of all
of them would take seconds, drawing the twenty on screen takes microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

FOUND = "bold white on dark_green"


class TextPane(ScrollView, can_focus=False):
    """Lines of text (str, or Text where a line carries its own colours), a style for some
    of them by number, and a search term lit wherever it occurs."""

    DEFAULT_CSS = """
    TextPane {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: Sequence[str | Text] = []
        self.line_styles: dict[int, str] = {}
        self._search: re.Pattern | None = None
        self._cache: dict[int, Strip] = {}  # rendered lines; emptied on any change

    @property
    def text(self) -> str:
        """The whole text, plain (for tests and copying; never drawn at once)."""
        return "\n".join(line if isinstance(line, str) else line.plain for line in self.lines)

    def update(self, content: str | Text | list[str],
               line_styles: dict[int, str] | None = None) -> None:
        """Show new content: a string, a Text keeping its colours, or ready split lines."""
        if isinstance(content, Text):
            self.lines = list(content.split("\n", allow_blank=True))
        elif isinstance(content, str):
            self.lines = content.splitlines()
        else:
            self.lines = content
        self.line_styles = dict(line_styles or {})
        width = max((len(line) for line in self.lines), default=0)
        self._cache.clear()
        self.virtual_size = Size(width, len(self.lines))
        self.refresh()

    def search(self, term: str) -> None:
        """Light every occurrence of term (any case); an empty term lights nothing."""
        self._search = re.compile(re.escape(term), re.IGNORECASE) if term else None
        self._cache.clear()
        self.refresh()

    def scroll_to_line(self, number: int, above: int = 3) -> None:
        """Bring a line into view (a few lines below the top), once the pane has its size:
        a tab just switched to has none yet."""
        self.call_after_refresh(self.scroll_to, y=max(0, number - above), animate=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if number >= len(self.lines):
            return Strip.blank(width, style)
        strip = self._cache.get(number)
        if strip is None:
            strip = self._cache[number] = self._render_text_line(number, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x,
                                                                                   number)

    def _render_text_line(self, number: int, base: Style) -> Strip:
        line = self.lines[number]
        text = Text(line, no_wrap=True, end="") if isinstance(line, str) else line.copy()
        text.no_wrap, text.end = True, ""
        if number in self.line_styles:
            text.stylize(self.line_styles[number])
        if self._search is not None:
            text.highlight_regex(self._search, FOUND)
        segments = [Segment(s.text, base + s.style if s.style else base, s.control)
                    for s in text.render(self.app.console)]
        return Strip(segments, text.cell_len)
