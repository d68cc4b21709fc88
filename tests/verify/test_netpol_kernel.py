"""kube-network-policies on ptp in the kernel: its table in the node namespaces, the real
NFQUEUE answered by a queue program with the model's verdicts; every probe agrees (the
allowed and the denied one, and their replies by conntrack) and the table reads back."""

from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.manifests import apply_files
from playground.verify.run import verify

LAB = Path(__file__).parent / "data" / "netpol-ptp.yaml"


async def small_lab() -> Cluster:
    cluster = Cluster(cni="ptp")
    await cluster.start()
    await cluster.add_node("kind-control-plane", control_plane=True)
    await cluster.add_node("kind-worker")
    await apply_files(cluster, [str(LAB)])
    return cluster


async def test_the_queue_answers_as_the_model_and_replies_pass(kernel):
    lab = await small_lab()
    try:
        rulesets: list[str] = []
        results = verify(lab, rulesets=rulesets)
    finally:
        await lab.stop()
    assert rulesets == []
    assert [(r.probe.label, r.problems) for r in results if not r.ok] == []
    by_label = {r.probe.label: r for r in results}
    allowed = by_label["pod/default/client → pod/default/web tcp/80"]
    denied = by_label["pod/default/other → pod/default/web tcp/80"]
    assert allowed.observed.result == "reached"
    assert denied.observed.result == "timeout"
