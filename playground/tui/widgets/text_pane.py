"""A long text shown a screenful at a time: only the visible lines are ever styled and drawn.

A node of a big cluster has a hundred thousand iptables lines; building one rich Text of all
of them would take seconds, drawing the twenty on screen takes microseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

FOUND = "bold white on dark_green"
MORE = "↳ "  # starts each further row of a wrapped line


def rows_for(length: int, width: int) -> int:
    """How many rows a line of this many cells takes wrapped to width (further rows start
    with MORE)."""
    if length <= width or width <= len(MORE):
        return 1
    rest = width - len(MORE)
    return 1 + -(-(length - width) // rest)


class TextPane(ScrollView, can_focus=False):
    """Lines of text (str, or Text where a line carries its own colours), a style for some
    of them by number, and a search term lit wherever it occurs.

    A line is one row, cut at the pane's edge (scroll sideways to read on), except the lines
    asked to wrap (a lit rule), or every line while `wrap` is on: those fold onto further
    rows, each marked MORE."""

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
        self._cache: dict[tuple[int, int], Strip] = {}  # rendered rows; emptied on any change
        self.wrap = False  # every line wrapped to the width, or only those in wrapped
        self.wrapped: set[int] = set()
        self._folds: list[int] = []  # the wrapped lines taking more than one row, in order
        self._extra: list[int] = []  # and the rows each takes beyond its first
        self._before: list[int] = []  # extra rows of the folds before each fold
        self._folded: set[int] = set()

    @property
    def text(self) -> str:
        """The whole text, plain (for tests and copying; never drawn at once)."""
        return "\n".join(line if isinstance(line, str) else line.plain for line in self.lines)

    def update(self, content: str | Text | list[str],
               line_styles: dict[int, str] | None = None,
               wrapped: set[int] | None = None) -> None:
        """Show new content: a string, a Text keeping its colours, or ready split lines;
        the numbers of the lines to wrap whatever `wrap` is."""
        if isinstance(content, Text):
            self.lines = list(content.split("\n", allow_blank=True))
        elif isinstance(content, str):
            self.lines = content.splitlines()
        else:
            self.lines = content
        self.line_styles = dict(line_styles or {})
        self.wrapped = set(wrapped or ())
        self._lay_out()

    def set_wrap(self, wrap: bool) -> None:
        """Wrap every line or only the asked ones; the line at the top stays at the top."""
        top, _ = self.line_at(self.scroll_offset.y)
        self.wrap = wrap
        self._lay_out()
        self.scroll_to_line(top, above=0)

    def on_resize(self) -> None:
        self._lay_out()
        self._scroll_wanted()

    def _lay_out(self) -> None:
        """Work out which lines fold onto more rows at this width, and the size to scroll."""
        width = self.scrollable_content_region.width
        lines = self.lines
        folding = range(len(lines)) if self.wrap else sorted(n for n in self.wrapped
                                                              if n < len(lines))
        self._folds, self._extra = [], []
        for number in folding:
            extra = rows_for(len(lines[number]), width) - 1
            if extra:
                self._folds.append(number)
                self._extra.append(extra)
        self._before = [0, *accumulate(self._extra)][:-1] if self._extra else []
        self._folded = cut = set(self._folds)
        widest = max((len(line) for n, line in enumerate(lines) if n not in cut), default=0)
        self._cache.clear()
        self.virtual_size = Size(min(widest, width) if self.wrap else widest,
                                 len(lines) + sum(self._extra))
        self.refresh()

    def row_of(self, number: int) -> int:
        """The first row of a line."""
        folds = bisect_right(self._folds, number - 1)
        return number + (self._before[folds - 1] + self._extra[folds - 1] if folds else 0)

    def line_at(self, row: int) -> tuple[int, int]:
        """The line a row shows, and which of that line's rows it is."""
        starts = self._folds
        low, high = 0, len(starts)
        while low < high:  # the last fold starting at or above this row
            middle = (low + high) // 2
            if starts[middle] + self._before[middle] <= row:
                low = middle + 1
            else:
                high = middle
        if not low:
            return row, 0
        fold = low - 1
        start = starts[fold] + self._before[fold]
        if row <= start + self._extra[fold]:
            return starts[fold], row - start
        return starts[fold] + row - start - self._extra[fold], 0

    def search(self, term: str) -> None:
        """Light every occurrence of term (any case); an empty term lights nothing."""
        self._search = re.compile(re.escape(term), re.IGNORECASE) if term else None
        self._cache.clear()
        self.refresh()

    _wanted: tuple[int, int] | None = None  # a line to bring into view once laid out

    def scroll_to_line(self, number: int, above: int = 3) -> None:
        """Bring a line into view (a few lines below the top, fewer in a short pane), once
        the pane has its size: a tab just switched to has none yet, and gets it later."""
        self._wanted = (number, above)
        self.call_after_refresh(self._scroll_wanted)

    def _scroll_wanted(self) -> None:
        if self._wanted is None or not self.size.height:
            return  # nothing asked, or not laid out yet: on_resize comes back here
        (number, above), self._wanted = self._wanted, None
        room = min(above, self.size.height // 3)
        self.scroll_to(y=max(0, self.row_of(number) - room), animate=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number, part = self.line_at(scroll_y + y)
        width = self.size.width
        style = self.rich_style
        if number >= len(self.lines):
            return Strip.blank(width, style)
        strip = self._cache.get((number, part))
        if strip is None:
            strip = self._cache[number, part] = self._render_row(number, part, style)
        if number in self._folded:  # a folded line is not scrolled sideways
            return strip.extend_cell_length(width, style).apply_offsets(0, number)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x,
                                                                                   number)

    def _render_row(self, number: int, part: int, base: Style) -> Strip:
        """One row of a line: the whole line, or one piece of a folded one."""
        strip = self._render_text_line(number, base)
        if number not in self._folded:
            return strip
        width = self.scrollable_content_region.width
        if not part:
            return strip.crop(0, width)
        rest = width - len(MORE)
        start = width + (part - 1) * rest
        return Strip([Segment(MORE, base + Style(dim=True)), *strip.crop(start, start + rest)])

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
