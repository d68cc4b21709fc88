"""The `:` command line's input. Tab completes the last word, and Tab again goes on through
every match, listed under the line; up and down walk back through the lines run before,
failed ones too, so a typo comes back to be fixed."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input

SHOWN = 8  # candidates listed under the line at once


class CommandInput(Input):
    BINDINGS = [Binding("tab", "complete", "Complete", priority=True),
                Binding("up", "history(-1)", "Earlier", show=False),
                Binding("down", "history(1)", "Later", show=False)]

    def __init__(self, *args, matches: Callable[[str], list[str]] = lambda line: [],
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matches = matches  # every completion of a line, best first
        self.history: list[str] = []
        self.history_at = 0
        self._cycle: list[str] = []
        self._cycled = ""  # the value the last Tab left, to go on from

    def remember(self, line: str) -> None:
        """A line was run (or tried): it is the first one up brings back."""
        self.history.append(line)
        self.history_at = len(self.history)

    def open(self) -> None:
        self.value = ""
        self.history_at = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.history_at = max(0, min(len(self.history), self.history_at + step))
        self.value = self.history[self.history_at] if self.history_at < len(self.history) \
            else ""
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        if self._cycle and self.value == self._cycled:
            at = (self._cycle.index(self.value) + 1) % len(self._cycle)
        else:
            self._cycle, at = self.matches(self.value), 0
            if not self._cycle:
                return
        self._cycled = self._cycle[at]  # first: setting the value asks if it was typed
        self.value = self._cycled
        self.cursor_position = len(self.value)
        self._show_candidates(at)

    def _show_candidates(self, at: int) -> None:
        if len(self._cycle) < 2:
            self.border_subtitle = ""
            return
        start = max(0, min(at - SHOWN // 2, len(self._cycle) - SHOWN))
        shown = Text(f"Tab {at + 1}/{len(self._cycle)}: ")
        for index in range(start, min(start + SHOWN, len(self._cycle))):
            word = self._cycle[index].rsplit(" ", 1)[-1]
            shown.append(word, "bold reverse" if index == at else "")
            shown.append("  ")
        self.border_subtitle = shown

    def watch_value(self, value: str) -> None:
        if value != self._cycled:  # typed over: the next Tab starts afresh
            self._cycle, self._cycled = [], ""
            self.border_subtitle = ""
