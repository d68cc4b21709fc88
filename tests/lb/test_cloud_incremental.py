"""The cloud controller reprograms one load balancer per event; after any run of changes its
routes are the ones a controller starting from scratch on the same cluster would make."""

from __future__ import annotations

from playground.cluster.cloud import LB_NAMESPACE, LB_POOL
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.lb.cloud import CloudController, balanced_address
from playground.net.netns import Namespace
from playground.net.network import Network

WEB = [Container("web", ports=[ContainerPort(8080, "http")])]


def balanced(table) -> list[str]:
    return [route.text() for route in table.routes() if route.prefix.subnet_of(LB_POOL)]


def routes_of(cluster) -> list[str]:
    return balanced(cluster.network.namespace(LB_NAMESPACE).main)


async def from_scratch(cluster) -> list[str]:
    """A fresh controller on a copy of the world outside, fed every current object."""
    network = Network()
    network.namespaces[LB_NAMESPACE] = balancer = Namespace(LB_NAMESPACE)
    for device in cluster.network.namespace(LB_NAMESPACE).devices.values():
        if device.name != "lo":
            balancer.devices.setdefault(device.name, device)
    fresh = CloudController(cluster.api, network)
    fresh.ready = {n.name: balanced_address(n) for n in cluster.nodes()
                   if balanced_address(n) is not None}
    for service in cluster.services():
        fresh._program(service.key)
    return balanced(balancer.main)


async def test_load_balancer_routes_follow_each_change_as_a_full_rebuild_would(lab):
    await lab.add_service("lb-cluster", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    await lab.add_service("lb-local", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          external_traffic_policy="Local")
    seen = [routes_of(lab)]
    assert len(seen[0]) == 2 and routes_of(lab) == await from_scratch(lab)
    await lab.add_node("extra")
    await lab.add_pod("web-3", WEB, labels={"app": "web"}, node_name="extra")
    assert routes_of(lab) == await from_scratch(lab)
    seen.append(routes_of(lab))
    await lab.delete_pod("web-3")
    await lab.delete_service("lb-cluster")
    assert routes_of(lab) == await from_scratch(lab)
    await lab.remove_node("extra")
    assert routes_of(lab) == await from_scratch(lab)
    assert seen[0] != seen[1], "the Local balancer gained the new node with its endpoint"
