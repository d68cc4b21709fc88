"""Dialogs around lab files: save as, open, restore after a crash, pick a guided lab."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from playground.labs.catalogue import LESSONS
from playground.saves import SUFFIX, DamagedLabFile, LabFileError, recovery_path
from playground.tui.forms import Dialog

SAVES = Path("saves")


def lab_files(folder: Path = SAVES) -> list[Path]:
    """The lab files a user is likely to open: those in saves/, newest name order."""
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and p.is_file())
    except OSError:
        return []


class PathDialog(Dialog):
    """Ask for a file name; the app saves or opens, and an error keeps the dialog open."""

    TITLE = ""
    ACTION = ""

    def __init__(self, suggested: str = "") -> None:
        super().__init__()
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self.TITLE, classes="form-title")
            yield from self.choices()
            yield Input(self.suggested, placeholder=f"a path ending in {SUFFIX}", id="path",
                        compact=True)
            yield Static("", classes="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button(self.ACTION, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def choices(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    async def attempt(self) -> str | None:
        path = self.query_one("#path", Input).value.strip()
        return await self.act(path) if path else "give a file name"

    async def act(self, path: str) -> str | None:
        raise NotImplementedError


class SaveDialog(PathDialog):
    TITLE = "Save the lab as"
    ACTION = "Save"

    async def act(self, path: str) -> str | None:
        return await self.app.save_to(path)


class OpenDialog(PathDialog):
    TITLE = "Open a lab"
    ACTION = "Open"

    def choices(self) -> ComposeResult:
        files = lab_files()
        if files:
            yield OptionList(*[Option(str(p), id=str(p)) for p in files], id="lab-files")

    def on_mount(self) -> None:
        found = self.query("#lab-files")
        (found.first() if found else self.query_one("#path", Input)).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#path", Input).value = event.option.id or ""

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#path", Input).value = event.option.id or ""
        await self.action_submit()

    async def act(self, path: str) -> str | None:
        return await self.app.open_from(path)


class RestoreDialog(ModalScreen[bool]):
    """At start, after a session that ended without saving."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Start fresh")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Restore your last lab?", classes="form-title")
            yield Label("The last session ended without saving. Its lab was kept in",
                        classes="form-note")
            yield Static(Text(str(self.path), "bold", overflow="fold"), classes="form-path")
            with Horizontal(classes="form-buttons"):
                yield Button("Restore", variant="primary", id="restore")
                yield Button("Start fresh", id="fresh")

    def on_mount(self) -> None:
        self.query_one("#restore", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "restore")


class DamagedDialog(ModalScreen[Path | None]):
    """After a damaged lab file's one line: open its backup or the recovery file instead."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, problem: str, alternatives: tuple[Path, ...]) -> None:
        super().__init__()
        self.problem, self.alternatives = problem, alternatives

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("This lab file is damaged", classes="form-title")
            yield Static(Text(f"✗ {self.problem}", "bold red", overflow="fold"),
                         classes="form-note")
            yield Label("The same lab may still be whole in", classes="form-note")
            for path in self.alternatives:
                yield Static(Text(str(path), "bold", overflow="fold"), classes="form-path")
            with Horizontal(classes="form-buttons"):
                for number, path in enumerate(self.alternatives):
                    yield Button(_label(path), variant="primary" if number == 0 else "default",
                                 id=f"instead-{number}")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#instead-0", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        number = (event.button.id or "").removeprefix("instead-")
        self.dismiss(self.alternatives[int(number)] if number.isdecimal() else None)


def _label(path: Path) -> str:
    return "Open the recovery file" if path == recovery_path() else "Open its backup"


def offer(problem: LabFileError) -> DamagedDialog | None:
    """The dialog that offers what may be whole in place of a damaged file, if anything."""
    if isinstance(problem, DamagedLabFile) and problem.alternatives:
        return DamagedDialog(str(problem), problem.alternatives)
    return None


class LessonPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="form menu"):
            yield Label("Guided labs", classes="form-title")
            yield OptionList(*[Option(f"{lesson.title}: {lesson.summary}", id=lesson.id)
                               for lesson in LESSONS], id="lessons")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
