"""kube-proxy's own /healthz on 10256, in every mode: what a load balancer's health check
asks before it sends a node traffic."""

import pytest

from playground.cluster.cluster import Cluster
from playground.cluster.lab import web
from playground.cluster.service import ServicePort


@pytest.mark.parametrize("proxy_mode", ["iptables", "nftables", "ipvs"])
async def test_every_kube_proxy_serves_its_healthz_on_10256(proxy_mode):
    cluster = Cluster(proxy_mode=proxy_mode)
    await cluster.start()
    try:
        await cluster.add_node("n1")
        proxy = cluster.node_agents["n1"][-1]
        assert cluster.network.namespace("node/n1").port_in_use("tcp", 10256)
        answer = proxy.health.answer(10256, cluster.network.clock)
        assert answer.status == 200 and '"nodeEligible": true' in answer.body
        await proxy.stop()
        assert not cluster.network.namespace("node/n1").port_in_use("tcp", 10256)
    finally:
        await cluster.stop()


@pytest.mark.parametrize("proxy_mode", ["iptables", "nftables", "ipvs"])
async def test_every_mode_answers_the_health_check_node_port_by_local_endpoints(proxy_mode):
    cluster = Cluster(proxy_mode=proxy_mode)
    await cluster.start()
    try:
        await cluster.add_node("n1")
        await cluster.add_node("n2")
        await cluster.add_pod("web-1", web(), labels={"app": "web"}, node_name="n1")
        service = await cluster.add_service("shop", [ServicePort(80, 80)],
                                            selector={"app": "web"}, type="LoadBalancer",
                                            external_traffic_policy="Local")
        port = service.spec.health_check_node_port
        clock = cluster.network.clock
        statuses = [cluster.node_agents[n][-1].health.answer(port, clock).status
                    for n in ("n1", "n2")]
        assert statuses == [200, 503]
        await cluster.delete_service("shop")
        assert cluster.node_agents["n1"][-1].health.answer(port, clock) is None
    finally:
        await cluster.stop()
