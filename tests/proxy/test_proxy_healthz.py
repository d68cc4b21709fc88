"""kube-proxy's own /healthz on 10256, in every mode: what a load balancer's health check
asks before it sends a node traffic."""

import pytest

from playground.cluster.cluster import Cluster


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
