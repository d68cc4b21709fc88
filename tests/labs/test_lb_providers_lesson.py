"""The providers lesson ticks on what the traces computed: a drain (the speaker stays) does
not move a Cluster-policy address, the exclusion label does."""

from lesson_solutions import run_step

from playground.labs.catalogue import BY_ID
from playground.labs.lesson import tick


async def test_the_move_task_wants_the_address_moved_not_just_a_drain():
    lesson = BY_ID["lb-providers"]
    lab = await lesson.start()
    try:
        await run_step(lab, "trace internet lb/shop-cluster", None)
        assert tick(lesson, lab) == ["cluster"]
        await run_step(lab, "kubectl drain kind-worker2 --force", None)
        await run_step(lab, "trace internet lb/shop-cluster", None)
        assert "move" not in tick(lesson, lab)   # drained, yet it still enters there
        entries = [next(h.where for h in t.hops if h.where.startswith("node/"))
                   for t in lab.journal.traces()]
        assert entries[-1] == entries[0] == "node/kind-worker2"
        await run_step(lab, "kubectl label node kind-worker2 "
                            "node.kubernetes.io/exclude-from-external-load-balancers=", None)
        await run_step(lab, "trace internet lb/shop-cluster", None)
        assert tick(lesson, lab) == ["move"]
    finally:
        await lab.close()


async def test_the_local_task_wants_the_client_address():
    lesson = BY_ID["lb-providers"]
    lab = await lesson.start()
    try:
        await run_step(lab, "trace internet lb/shop-cluster", None)
        assert "local" not in tick(lesson, lab)
        await run_step(lab, "trace internet lb/shop-local", None)
        assert tick(lesson, lab) == ["local"]
    finally:
        await lab.close()


async def test_the_envoy_task_wants_cloud_provider_kind_not_the_cloud():
    lesson = BY_ID["lb-providers"]
    lab = await lesson.start()
    try:
        await run_step(lab, "trace internet lb/shop-local", None)
        await run_step(lab, "compare bridge", None)
        assert "envoy" not in tick(lesson, lab)   # the cloud's walk ends at the pod
        await run_step(lab, "compare bridge+cloud-provider-kind", None)
        assert "envoy" in tick(lesson, lab)
    finally:
        await lab.close()
