"""A Lab: a cluster with what a learner did to it (the journal of the commands whose effect
lives in the dataplane), a lesson's progress and the app's layout."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster
from playground.commands.table import find
from playground.session.journal import Action, Journal
from playground.session.layout import check_layout
from playground.shell import Shell, ShellError, ShellResult, split


@dataclass
class LessonProgress:
    lesson: str
    done: list[str] = field(default_factory=list)


class Lab:
    """A cluster with what a learner did to it: the journal, a lesson's progress, the layout."""

    def __init__(self, cluster: Cluster, lesson: LessonProgress | None = None,
                 layout: dict[str, str | int | bool] | None = None) -> None:
        self.cluster = cluster
        self.shell = Shell(cluster)
        self.journal = Journal()
        self.lesson = lesson
        self.layout = check_layout(dict(layout or {}), "layout")
        self.skipped: list[str] = []  # journal lines a load could not run again
        self.compared: list = []  # packets sent again on another dataplane, for the lessons

    @property
    def history(self) -> list[Action]:
        return self.journal.actions

    async def run(self, line: str, selected: str | None = None) -> ShellResult:
        """Run a command-line command; the replayable ones go into the journal."""
        try:
            command = find(split(line))
        except ShellError:
            command = None  # the shell says why
        network = self.cluster.network
        action = self.journal.begin(network.rng, network.clock) \
            if command is not None and command.replayed else None
        result = await self.shell.run(line, selected)
        if action is not None:
            traces = result.traces or ([result.trace] if result.trace else [])
            self.journal.commit(action, line, selected if command.selection else None,
                                network.rng, traces, result.legs)
        return result

    async def close(self) -> None:
        await self.cluster.stop()
