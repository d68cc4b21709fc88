"""The dataplane lesson ticks only on a real comparison, with the dataplane it names."""

from lesson_solutions import run_step

from playground.labs.catalogue import BY_ID
from playground.labs.lesson import tick


async def test_a_trace_alone_or_a_comparison_with_itself_does_not_tick():
    lesson = BY_ID["compare-dataplanes"]
    lab = await lesson.start()
    try:
        await run_step(lab, "trace pod/client pod/web-2", None)
        assert tick(lesson, lab) == []
        await run_step(lab, "compare bridge", None)
        assert len(lab.compared) == 1 and tick(lesson, lab) == []
        await run_step(lab, "compare ptp", None)
        assert tick(lesson, lab) == ["same-node"]
    finally:
        await lab.close()


async def test_a_packet_to_a_pod_is_not_the_service_task():
    lesson = BY_ID["compare-dataplanes"]
    lab = await lesson.start()
    try:
        await run_step(lab, "trace pod/client pod/web-1", None)
        await run_step(lab, "compare ptp", None)
        assert tick(lesson, lab) == []
    finally:
        await lab.close()
