"""The `:` command line's input: Tab takes the suggested completion."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class CommandInput(Input):
    BINDINGS = [Binding("tab", "complete", "Complete", priority=True)]

    def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
