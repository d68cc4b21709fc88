"""The help screen: the keys, from a Markdown file beside this module, and the commands,
from the table of commands."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from playground.commands.table import FAMILIES


def commands_text() -> str:
    """Every `:` command of the table, family by family, with its line of help."""
    parts = []
    for family in FAMILIES:
        parts.append(f"{family.TITLE}:\n")
        parts += [f"- `{command.usage}`: {command.help}" for command in family.COMMANDS]
        parts.append("")
    return "\n".join(parts)


HELP_TEXT = (Path(__file__).parent / "help.md").read_text(encoding="utf-8").replace(
    "{commands}", commands_text())


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP_TEXT)
