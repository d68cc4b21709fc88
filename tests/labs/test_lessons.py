"""Each guided lab, done through the command line the app uses: every check ticks once its
work is done, and not before."""

from __future__ import annotations

import pytest
from lesson_solutions import SOLUTIONS, run_step

from playground.labs import checks as c
from playground.labs import compare_checks as cc
from playground.labs.catalogue import BY_ID, LESSONS
from playground.labs.lesson import finished, tick


def test_every_lesson_has_a_solution():
    assert set(SOLUTIONS) == set(BY_ID)
    for lesson in LESSONS:
        assert list(SOLUTIONS[lesson.id]) == [task.id for task in lesson.tasks]


# the scale lesson's own test below ticks its tasks too: its 10,000 Services cost a minute
@pytest.mark.parametrize("lesson", [x for x in LESSONS if x.id != "iptables-at-scale"],
                         ids=lambda lesson: lesson.id)
async def test_doing_the_tasks_ticks_them_one_by_one(lesson):
    lab = await lesson.start()
    try:
        assert tick(lesson, lab) == []
        for task in lesson.tasks:
            for line, node in SOLUTIONS[lesson.id][task.id]:
                await run_step(lab, line, node)
            assert tick(lesson, lab) == [task.id], f"{lesson.id}: {task.id}"
        assert finished(lesson, lab)
    finally:
        await lab.close()


async def test_a_task_does_not_tick_on_the_wrong_flow():
    """A trace that is delivered but not through the lesson's mechanism does not count."""
    lesson = BY_ID["pod-to-service"]
    lab = await lesson.start()
    try:
        await lab.run("trace pod/client pod/web-1")  # straight to a pod: no Service DNAT
        await lab.run("reply")
        assert tick(lesson, lab) == []
    finally:
        await lab.close()


async def test_the_broken_service_does_not_tick_until_it_selects_pods():
    lesson = BY_ID["broken-selector"]
    lab = await lesson.start()
    try:
        await lab.run("trace pod/client svc/shop")
        await lab.run("trace pod/client svc/shop")
        assert tick(lesson, lab) == ["see-reject"]
    finally:
        await lab.close()


async def test_the_cilium_lesson_wants_the_socket_translating_a_service():
    """A pod-to-pod trace passes cil_sock4_connect too, but it translates nothing."""
    lesson = BY_ID["cilium"]
    lab = await lesson.start()
    try:
        await lab.run("trace pod/client pod/web-1")
        await lab.run("reply")
        assert tick(lesson, lab) == []
    finally:
        await lab.close()


async def test_the_scale_lesson_ticks_and_shows_both_modes_walks_side_by_side():
    lesson = BY_ID["iptables-at-scale"]
    lab = await lesson.start()
    try:
        before = lesson.measure(lab)
        assert before.startswith("10 Services") and "no packet sent yet" in before
        for task in lesson.tasks:
            for line, node in SOLUTIONS[lesson.id][task.id]:
                await run_step(lab, line, node)
            assert tick(lesson, lab) == [task.id], task.id
        assert finished(lesson, lab)
        first, last = c.nat_walks(lab, "pod/client", "svc/web")
        assert last - first == 9_990  # a KUBE-SERVICES rule per Service sorted before web
        nft_first, nft_last = cc.walks_compared(lab, "pod/client", "svc/web", "bridge/nftables")
        assert nft_first == nft_last < first   # one verdict map lookup, however many
        after = lesson.measure(lab)
        assert after.startswith("10,000 Services")
        assert after.endswith(f"{first:,} then {last:,} · nftables: {nft_first:,} then "
                              f"{nft_last:,}")
    finally:
        await lab.close()


async def test_names_do_not_work_until_coredns_is_back():
    lesson = BY_ID["dns-down"]
    lab = await lesson.start()
    try:
        await lab.run("trace pod/client web")
        await lab.run("trace pod/client svc/web")   # an address still works
        assert tick(lesson, lab) == ["see-reject"]
        assert not c.resolved(lab, "pod/client", "web.default.svc.cluster.local.")
    finally:
        await lab.close()


async def test_a_name_with_a_typo_is_nxdomain_until_the_configuration_names_the_service():
    lesson = BY_ID["dns-typo"]
    lab = await lesson.start()
    try:
        await lab.run("trace pod/client http://web.default.svc.cluster.local/")   # no typo
        assert not c.nxdomain_through_search(lab, "pod/client", "wbe")
        await lab.run("trace pod/client wbe.default:80")   # 2 dots: not the whole list
        assert not c.nxdomain_through_search(lab, "pod/client", "wbe")
        await lab.run("trace pod/client http://wbe/")
        assert c.nxdomain_through_search(lab, "pod/client", "wbe")
        assert not c.config_names_service(lab, "default", "client-config", "BACKEND_URL")
        changed = lab.cluster.api.get("ConfigMap", "default", "client-config")
        changed.data = {"BACKEND_URL": "http://web.default.svc.cluster.local:80/"}
        lab.cluster.api.update(changed)
        assert c.config_names_service(lab, "default", "client-config", "BACKEND_URL")
    finally:
        await lab.close()
