"""The endpoints controller folds a burst of pod events into one sync per Service, and is
synced whenever the API server has settled."""

from __future__ import annotations

from playground.cluster.api import ApiServer
from playground.cluster.controllers.endpoints import EndpointsController
from playground.cluster.objects import Container, ObjectMeta, Pod, PodSpec, PodStatus
from playground.cluster.service import Service, ServicePort, ServiceSpec, slices_of


def running(name: str, host: int) -> Pod:
    return Pod(ObjectMeta(name, "default", labels={"app": "web"}),
               PodSpec([Container("web")], node_name="n1"),
               PodStatus("Running", f"10.244.1.{host}", "172.18.0.2"))


async def test_a_burst_of_pod_events_syncs_the_service_once_with_every_pod():
    api = ApiServer()
    controller = EndpointsController(api)
    controller.start()
    synced: list[tuple[str, str]] = []
    sync = controller.sync
    controller.sync = lambda namespace, name: (synced.append((namespace, name)),
                                               sync(namespace, name))
    api.create(Service(ObjectMeta("web", "default"),
                       ServiceSpec([ServicePort(80, 8080)], selector={"app": "web"})))
    for host in range(2, 7):
        api.create(running(f"web-{host}", host))
    await api.tracker.wait_idle()
    assert synced == [("default", "web")]
    slice_ = slices_of(api, "default", "web")[0]
    assert sorted(e.address for e in slice_.endpoints) == [f"10.244.1.{h}" for h in range(2, 7)]
    api.delete("Pod", "default", "web-3")
    await api.tracker.wait_idle()
    assert len(synced) == 2
    assert "10.244.1.3" not in {e.address for e in slices_of(api, "default", "web")[0].endpoints}
    await controller.stop()
