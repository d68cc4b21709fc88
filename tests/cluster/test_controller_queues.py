"""Controllers fold a burst of events about one object into one sync, as client-go's work
queue does: a ReplicaSet's sync lists all of its pods, so a sync per pod event made a
Deployment's cost grow with the square of its replicas."""

from __future__ import annotations

from playground.cluster.controllers.replicaset import ReplicaSetController
from playground.cluster.lab import web


async def test_a_replicaset_syncs_as_often_for_forty_pods_as_for_four(lab, monkeypatch):
    synced: list[str] = []
    sync = ReplicaSetController.sync

    def counted(self, namespace: str, name: str) -> None:
        synced.append(name)
        sync(self, namespace, name)
    monkeypatch.setattr(ReplicaSetController, "sync", counted)
    counts = {}
    for replicas in (4, 40):
        synced.clear()
        await lab.add_deployment(f"web-{replicas}", web(f"web-{replicas}"), replicas=replicas)
        assert len(lab.owned_pods(lab.find_deployment(f"web-{replicas}"))) == replicas
        counts[replicas] = len(synced)
    # a sync per pod event was 15 syncs for 4 pods and 125 for 40; folded, about as many
    assert counts[40] <= 2 * counts[4]
