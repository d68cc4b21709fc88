"""Saving, opening and restoring labs in the app, and doing every guided lab in it."""

import pytest
from driving import app
from lesson_solutions import SOLUTIONS
from textual.widgets import Input, Static

from playground.labs.catalogue import LESSONS
from playground.saves import load_lab, pending_recovery
from playground.tui.lab_files import RestoreDialog, SaveDialog


async def test_save_as_then_open_brings_the_lab_back(tmp_path):
    target = tmp_path / "mine.k8slab"
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.app.run_line("kubectl create deployment shop --image=nginx --replicas=2")
        await pilot.app.run_line("trace pod/client svc/web")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SaveDialog)
        pilot.app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert target.is_file() and not pilot.app.dirty
        await pilot.app.run_line("kubectl delete deployment shop")
        await pilot.app.run_line(f"open {target}")
        await pilot.pause()
        lab = pilot.app.cluster
        assert lab.api.peek("Deployment", "default", "shop") is not None
        assert pilot.app.player.runs[-1].label == "trace pod/client svc/web"
        assert pilot.app.player.traces[0].text() == (await load_lab(target)).history[0] \
            .traces[0].text()


async def test_a_bad_file_is_one_line_and_the_lab_stays(tmp_path):
    broken = tmp_path / "broken.k8slab"
    broken.write_bytes(b"\x82\xa6format\xb2k8s-playground-lab\xa7ver")
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.app.run_line("kubectl create deployment shop --image=nginx")
        before = pilot.app.cluster
        await pilot.app.run_line(f"open {broken}")
        error = str(pilot.app.query_one("#error", Static).render())
        assert error.startswith(f"✗ {broken}:") and "\n" not in error
        assert pilot.app.cluster is before
        assert before.api.peek("Deployment", "default", "shop") is not None


async def test_an_unsaved_lab_is_offered_back_at_the_next_start():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.app.run_line("kubectl create deployment kept --image=nginx")
        assert pending_recovery() is not None
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(pilot.app.screen, RestoreDialog)
        await pilot.click("#restore")
        await pilot.pause()
        assert pilot.app.cluster.api.peek("Deployment", "default", "kept") is not None
        await pilot.press("q")
    assert pending_recovery() is not None, "restored but never saved: still recoverable"


async def test_a_clean_quit_leaves_nothing_to_restore():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("q")
    assert pending_recovery() is None


async def watch_to_the_end(pilot) -> None:
    player = pilot.app.player
    if player.hops:
        player.jump(len(player.hops) - 1)
        pilot.app._moved()
    await pilot.pause()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
async def test_each_guided_lab_is_done_in_the_app(lesson):
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+l")
        await pilot.pause()
        picker = pilot.app.screen.query_one("#lessons")
        picker.highlighted = [x.id for x in LESSONS].index(lesson.id)
        await pilot.press("enter")
        await pilot.pause()
        pane = pilot.app.query_one("#lesson-text", Static)
        assert lesson.title in str(pane.render()) and "☑" not in str(pane.render())
        for task in lesson.tasks:
            for line, node in SOLUTIONS[lesson.id][task.id]:
                if node:
                    pilot.app.select(node)
                await pilot.app.run_line(line)
                assert not pilot.app.query_one("#error").display, line
            assert task.id in pilot.app.lab.lesson.done
            await watch_to_the_end(pilot)  # its tick waits for the packet's last hop
        assert str(pane.render()).count("☑") == len(lesson.tasks)
        assert "All done" in str(pane.render())


async def test_a_task_is_told_when_its_packet_arrives_and_all_done_once():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        told = []
        pilot.app.notify = lambda message, **kw: told.append(message)
        await pilot.app.run_line("lesson pod-to-service")
        lesson = pilot.app.lesson
        pane = pilot.app.query_one("#lesson-text", Static)
        await pilot.app.run_line("trace pod/client svc/web")
        first = lesson.tasks[0]
        assert first.id in pilot.app.lab.lesson.done  # judged done when sent
        assert not told and "☑" not in str(pane.render())  # told when the packet arrives
        player = pilot.app.player
        while player.index + 2 < len(player.hops):
            await pilot.press("right")
        assert not told
        await pilot.press("right")
        assert told == [f"✓ {first.text}"] and "☑" in str(pane.render())
        for line in lesson_lines(lesson)[1:]:
            await pilot.app.run_line(line)
            await watch_to_the_end(pilot)
        assert told.count("every task is done") == 1
        await pilot.app.run_line("trace pod/client svc/web")
        await watch_to_the_end(pilot)
        assert told.count("every task is done") == 1


def lesson_lines(lesson) -> list[str]:
    return [line for task in lesson.tasks for line, _ in SOLUTIONS[lesson.id][task.id]]
