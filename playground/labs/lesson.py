"""A guided lab: text, tasks with hints and checks, and the lab it starts from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playground.labs.scenarios import BY_ID
from playground.session.lab import Lab, LessonProgress


@dataclass(frozen=True)
class Task:
    id: str
    text: str
    hint: str
    check: Callable[[Lab], bool]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    text: str
    scenario: str  # the lab it starts from (playground.labs.scenarios)
    tasks: tuple[Task, ...]
    measure: Callable[[Lab], str] | None = None  # a line of figures the pane keeps current

    async def start(self) -> Lab:
        """A fresh lab for the lesson: the scenario without its key flow, nothing ticked."""
        lab = await BY_ID[self.scenario].build(with_flow=False)
        lab.lesson = LessonProgress(self.id, [])
        return lab

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)


def tick(lesson: Lesson, lab: Lab) -> list[str]:
    """Mark the tasks whose checks now hold; a ticked task stays ticked. Returns the new ones."""
    if lab.lesson is None or lab.lesson.lesson != lesson.id:
        lab.lesson = LessonProgress(lesson.id, [])
    newly = [task.id for task in lesson.tasks
             if task.id not in lab.lesson.done and task.check(lab)]
    lab.lesson.done.extend(newly)
    return newly


def finished(lesson: Lesson, lab: Lab) -> bool:
    return lab.lesson is not None and all(t.id in lab.lesson.done for t in lesson.tasks)
