"""healthCheckNodePort: the API server allocates and checks it, kube-proxy accepts it in
filter KUBE-NODEPORTS and answers on it from every node as pkg/proxy/healthcheck does."""

import json

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.service import ServicePort
from playground.proxy.iptables import KubeProxy


def health(lab, node: str):
    return next(a for a in lab.node_agents[node] if isinstance(a, KubeProxy)).health


async def local_lb(lab, **fields):
    return await lab.add_service("lb", [ServicePort(80, "http", name="http")],
                                 selector={"app": "web"}, type="LoadBalancer",
                                 external_traffic_policy="Local", **fields)


async def test_a_local_load_balancer_gets_a_health_check_node_port_every_node_answers(lab):
    service = await local_lb(lab)
    port = service.spec.health_check_node_port
    assert port in range(30000, 32768) and port != service.spec.ports[0].node_port
    rule = (f'-A KUBE-NODEPORTS -p tcp -m comment --comment "default/lb:http health check '
            f'node port" -m tcp --dport {port} -j ACCEPT')
    for node in ("kind-control-plane", "kind-worker", "kind-worker2"):
        assert rule in lab.node_namespace(node).netfilter.save(["filter"]).splitlines()
    answers = {node: health(lab, node).answer(port, lab.network.clock)
               for node in ("kind-control-plane", "kind-worker", "kind-worker2")}
    assert answers["kind-worker"].status == 200 and answers["kind-worker2"].status == 200
    unavailable = answers["kind-control-plane"]
    assert (unavailable.status, unavailable.reason) == (503, "Service Unavailable")
    assert json.loads(unavailable.body) == {
        "service": {"namespace": "default", "name": "lb"}, "localEndpoints": 0,
        "serviceProxyHealthy": True}
    assert ("X-Load-Balancing-Endpoint-Weight", "1") in answers["kind-worker"].headers
    trace = send(lab, "node/kind-control-plane", "node/kind-worker", port=port)
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "kube-proxy"


async def test_the_health_answer_follows_the_nodes_endpoints(lab):
    service = await local_lb(lab)
    port = service.spec.health_check_node_port
    web_1 = lab.api.peek("Pod", "default", "web-1")
    await lab.delete_pod("web-1")
    assert health(lab, web_1.spec.node_name).answer(port, lab.network.clock).status == 503


async def test_going_back_to_cluster_policy_releases_the_port_and_closes_the_listener(lab):
    service = await local_lb(lab)
    port = service.spec.health_check_node_port
    updated = await lab.update_service("lb", external_traffic_policy="Cluster")
    assert updated.spec.health_check_node_port is None
    assert health(lab, "kind-worker").answer(port, lab.network.clock) is None
    assert not lab.node_namespace("kind-worker").port_in_use("tcp", port)
    assert "health check node port" not in lab.node_namespace("kind-worker").netfilter.save()
    again = await lab.update_service("lb", external_traffic_policy="Local")
    assert again.spec.health_check_node_port is not None


async def test_a_requested_port_is_checked_as_the_allocator_does(lab):
    taken = (await local_lb(lab)).spec.ports[0].node_port
    with pytest.raises(ClusterError, match=f"failed to allocate requested HealthCheck NodePort "
                                           f"{taken}: provided port is already allocated"):
        await lab.add_service("lb2", [ServicePort(80, name="http")], type="LoadBalancer",
                              external_traffic_policy="Local", health_check_node_port=taken)
    with pytest.raises(ClusterError, match="provided port is not in the valid range"):
        await lab.add_service("lb3", [ServicePort(80, name="http")], type="LoadBalancer",
                              external_traffic_policy="Local", health_check_node_port=8080)
    with pytest.raises(ClusterError, match="spec.healthCheckNodePort: Invalid value: 31999: "
                                           "may only be set when `type` is 'LoadBalancer' and "
                                           "`externalTrafficPolicy` is 'Local'"):
        await lab.add_service("np", [ServicePort(80, name="http")], type="NodePort",
                              health_check_node_port=31999)
    assert lab.api.peek("Service", "default", "np") is None


async def test_without_node_port_allocation_a_load_balancer_has_no_node_port_rules(lab):
    service = await lab.add_service("lb", [ServicePort(80, "http", name="http")],
                                    selector={"app": "web"}, type="LoadBalancer",
                                    allocate_load_balancer_node_ports=False)
    assert service.spec.ports[0].node_port is None
    saved = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    assert "default/lb:http loadbalancer IP" in saved
    assert '--comment "default/lb:http" -m tcp --dport' not in saved
    with pytest.raises(ClusterError, match="spec.allocateLoadBalancerNodePorts: Forbidden: "
                                           "may only be used when `type` is 'LoadBalancer'"):
        await lab.add_service("np", [ServicePort(80, name="http")], type="NodePort",
                              allocate_load_balancer_node_ports=False)


async def test_the_affinity_timeout_is_the_recent_matchs_seconds(lab):
    await lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, session_affinity="ClientIP",
                          session_affinity_timeout_seconds=600)
    saved = lab.node_namespace("kind-worker").netfilter.save(["nat"])
    assert saved.count("--rcheck --seconds 600 --reap") == 2
    default = await lab.add_service("sticky2", [ServicePort(80, "http", name="http")],
                                    selector={"app": "web"}, session_affinity="ClientIP")
    assert default.spec.session_affinity_timeout_seconds == 10800
    with pytest.raises(ClusterError, match="timeoutSeconds: Invalid value: 86401: must be "
                                           "greater than 0 and less than 86400"):
        await lab.add_service("s3", [ServicePort(80, name="http")], session_affinity="ClientIP",
                              session_affinity_timeout_seconds=86401)
    with pytest.raises(ClusterError, match="spec.sessionAffinityConfig: Forbidden: must not be "
                                           "set when session affinity is None"):
        await lab.add_service("s4", [ServicePort(80, name="http")],
                              session_affinity_timeout_seconds=60)
