"""kube-proxy programs a load balancer IP only in ipMode VIP (proxyutil.IsVIPMode): an
ipMode Proxy address belongs to a proxy that must see the traffic, from pods too."""

import pytest

from playground.cluster.cluster import Cluster
from playground.cluster.service import ServicePort


def _lb_lines(cluster, proxy_mode: str) -> list[str]:
    ns = cluster.network.namespace("node/n1")
    if proxy_mode == "nftables":
        text = ns.nft.list_ruleset()
    elif proxy_mode == "ipvs":
        text = "\n".join(str(a.interface) for a in ns.addresses)
    else:
        text = ns.netfilter.save(["nat", "filter"])
    return [line for line in text.splitlines() if "198.51.100.10" in line]


@pytest.mark.parametrize("proxy_mode", ["iptables", "nftables", "ipvs"])
async def test_an_ip_mode_proxy_address_gets_no_rules(proxy_mode):
    cluster = Cluster(proxy_mode=proxy_mode)
    await cluster.start()
    try:
        await cluster.add_node("n1")
        await cluster.add_service("shop", [ServicePort(80, 80)], selector={"app": "web"},
                                  type="LoadBalancer")
        assert _lb_lines(cluster, proxy_mode)   # a VIP: programmed on the node

        def proxy_mode_status(current) -> None:
            current.status.load_balancer_ip_mode = "Proxy"
        cluster.api.change("Service", "default", "shop", proxy_mode_status)
        await cluster.settle()
        assert _lb_lines(cluster, proxy_mode) == []
    finally:
        await cluster.stop()

