"""A checkbox whose state reads in plain text too: ✓ when on, blank when off (Textual's own
shows an X either way, told apart by colour alone)."""

from __future__ import annotations

from textual.widgets import Checkbox


class OnOff(Checkbox):
    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (the name Checkbox draws its inside from)
        return "✓" if self.value else " "
