"""Each guided lab, done through the command line the app uses: every check ticks once its
work is done, and not before."""

from __future__ import annotations

import pytest

from playground.labs.catalogue import BY_ID, INGRESS_LB, LESSONS
from playground.labs.lesson import finished, tick

# lesson -> task -> the command lines that do it, with the node they run on
SOLUTIONS = {
    "flat-network": {"pod-to-pod": [("trace pod/client pod/web-1", None)],
                     "node-to-pod": [("trace node/kind-worker pod/web-1", None)]},
    "container-to-container": {
        "localhost": [("trace pod/app:sidecar 127.0.0.1 --port 8080", None)],
        "own-address": [("trace pod/app:sidecar pod/app:app", None)]},
    "pod-to-pod-same-node": {"across-the-bridge": [("trace pod/client pod/web-2", None)],
                             "reply": [("reply", None)]},
    "pod-to-pod-across-nodes": {"across": [("trace pod/client pod/web-1", None)],
                                "reply": [("reply", None)]},
    "cni-ptp": {"routed": [("trace pod/client pod/web-2", None)]},
    "pod-to-service": {"dnat": [("trace pod/client svc/web", None)],
                       "reply": [("reply", None)]},
    "egress": {"out": [("trace pod/client internet", None)], "back": [("reply", None)]},
    "loadbalancer": {"cluster": [("trace internet lb/shop-cluster", None)],
                     "local": [("trace internet lb/shop-local", None)]},
    "ingress": {"blog": [(f"trace internet {INGRESS_LB} --host blog.example.com", None)],
                "docs": [(f"trace internet {INGRESS_LB} --host docs.example.com", None)]},
    "broken-selector": {
        "see-reject": [("trace pod/client svc/shop", None)],
        "fix-selector": [("kubectl delete service shop", None),
                         ("kubectl expose deployment shop --port=80", None)],
        "works": [("trace pod/client svc/shop", None)]},
    "missing-route": {
        "find": [("trace pod/client pod/web-1", None)],
        "repair": [("ip route add 10.244.2.0/24 via 172.18.0.3", "node/kind-worker")],
        "works": [("trace pod/client pod/web-1", None)]},
}


def test_every_lesson_has_a_solution():
    assert set(SOLUTIONS) == set(BY_ID)
    for lesson in LESSONS:
        assert list(SOLUTIONS[lesson.id]) == [task.id for task in lesson.tasks]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
async def test_doing_the_tasks_ticks_them_one_by_one(lesson):
    lab = await lesson.start()
    try:
        assert tick(lesson, lab) == []
        for task in lesson.tasks:
            for line, node in SOLUTIONS[lesson.id][task.id]:
                await lab.run(line, node)
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
