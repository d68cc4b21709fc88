"""The screen shown while a lab file loads: a big lab takes a while to converge, and the
learner should see that it is moving, and how far it got, from the first second."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, ProgressBar

STEPS = {
    "reading": "reading the file",
    "objects": "nodes, pods and Services back into the API server",
    "controllers": "controllers converging: endpoints, kube-proxy's service table, the cloud",
    "commands": "sending the lab's packets again",
}


class LoadingScreen(Screen):
    """A title, a bar and one line saying what is being rebuilt; q still quits."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.step = ""
        self.painted = asyncio.Event()  # set once the screen has been drawn

    def on_mount(self) -> None:
        self.call_after_refresh(self.painted.set)

    def compose(self) -> ComposeResult:
        with Vertical(id="loading"):
            yield Label(f"Opening {self.path}", id="loading-title")
            yield ProgressBar(total=None, show_eta=False, id="loading-bar")
            yield Label("", id="loading-step")
            yield Label("q quits", id="loading-keys")

    def report(self, step: str, done: int, total: int) -> None:
        """restore's progress callback: what it does now, done of total (0: not known)."""
        self.step = step
        words = STEPS.get(step, step)
        if total:
            words = f"{words}: {done:,} of {total:,}"
        self.query_one("#loading-step", Label).update(words)
        self.query_one("#loading-bar", ProgressBar).update(total=total or None,
                                                             progress=done)
