"""When a guided lab's task is told done: a task proved by a packet is judged done as soon
as that packet is sent, but the notice (and the tick in the pane) waits until the packet
on screen reaches its last hop, where its verdict is decided. "All done" is told once,
with the last task."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.labs.lesson import Lesson, finished


@dataclass
class LessonNotices:
    waiting: list[str] = field(default_factory=list)  # done, not yet told
    run: int = -1  # the number of the packet they wait for
    seen_sent: int = 0  # how many packets the player had when last asked

    def ticked(self, app, lesson: Lesson, newly: list[str]) -> None:
        """Tasks just judged done by the commands that ran."""
        player = app.player
        sent_now, self.seen_sent = player.sent != self.seen_sent, player.sent
        if self.waiting and sent_now:  # a newer packet takes the screen: tell the old news
            self._tell(app, lesson)
        self.waiting += newly
        if sent_now and player.hops and player.index + 1 < len(player.hops):
            self.run = player.runs[player.run].number
        else:
            self._tell(app, lesson)

    def moved(self, app, lesson: Lesson | None) -> None:
        """The packet moved: the news waits for the last hop of the packet that proved it."""
        player = app.player
        if self.waiting and lesson is not None and player.runs and \
                player.runs[player.run].number == self.run and \
                player.index + 1 == len(player.hops):
            self._tell(app, lesson)

    def _tell(self, app, lesson: Lesson) -> None:
        told, self.waiting = self.waiting, []
        if not told:
            return
        for task_id in told:
            app.notify(f"✓ {lesson.task(task_id).text}", title="task done")
        if finished(lesson, app.lab):
            app.notify("every task is done", title=lesson.title)
        app.show_hint = False
        app.show_lesson()

    def shown_done(self, done: list[str]) -> list[str]:
        """The tasks the pane ticks: not those still waiting for their packet."""
        return [task for task in done if task not in self.waiting]
