"""The guided lab beside the lab: its text, its tasks ticking as they are done, a hint."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from playground.labs.lesson import Lesson


class LessonPane(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="lesson-text")

    def show(self, lesson: Lesson, done: list[str], hint: bool = False,
             measured: str = "") -> None:
        text = Text()
        text.append(f"{lesson.title}\n\n", "bold")
        text.append(f"{lesson.text}\n\n")
        text.append("Tasks\n", "bold")
        upcoming = None
        for task in lesson.tasks:
            ticked = task.id in done
            if not ticked and upcoming is None:
                upcoming = task
            text.append("  ☑ " if ticked else "  ☐ ", "bold green" if ticked else "")
            text.append(f"{task.text}\n", "dim" if ticked else "")
        if measured:
            text.append(f"\nNow: {measured}\n", "cyan")
        if upcoming is None:
            text.append("\nAll done. ctrl+l picks another guided lab.\n", "bold green")
        elif hint:
            text.append(f"\nHint: {upcoming.hint}\n", "italic yellow")
        else:
            text.append("\nh shows a hint for the next task.\n", "dim")
        self.query_one("#lesson-text", Static).update(text)
