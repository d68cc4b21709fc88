"""The cloud load balancer forwards only the ports its Service listens on: a packet to any
other port is dropped there, instead of reaching a node that routes it back until its TTL
runs out."""

from playground.cluster.cloud import LB_NAMESPACE
from playground.cluster.legs import send
from playground.cluster.service import ServicePort


def listeners(lab) -> list[str]:
    saved = lab.network.namespace(LB_NAMESPACE).netfilter.save(["filter"], when="T")
    return [line for line in saved.splitlines() if line.startswith("-A")]


async def test_an_unserved_port_is_dropped_at_the_load_balancer(lab):
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    served = send(lab, "internet", "lb/shop")
    assert served.verdict == "delivered"
    unserved = send(lab, "internet", "lb/shop", port=81)
    assert unserved.verdict == "dropped"
    assert unserved.hops[-1].where == LB_NAMESPACE
    assert "listens on no other port" in unserved.hops[-1].rule
    assert not any(h.where.startswith("node/") for h in unserved.hops)


async def test_the_listeners_follow_the_service(lab):
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    assert [r for r in listeners(lab) if "--dport" in r] == [
        '-A FORWARD -d 198.51.100.10/32 -p tcp -m tcp --dport 80 -m comment --comment '
        '"cloud-lb: default/shop:http" -j ACCEPT']
    await lab.delete_service("shop")
    assert listeners(lab) == []
    await lab.add_service("shop", [ServicePort(8443, "https", name="https"),
                                   ServicePort(53, "dns", name="dns", protocol="UDP")],
                          selector={"app": "web"}, type="LoadBalancer")
    assert [r.split(" -m comment")[0] for r in listeners(lab)] == [
        "-A FORWARD -d 198.51.100.10/32 -p tcp -m tcp --dport 8443",
        "-A FORWARD -d 198.51.100.10/32 -p udp -m udp --dport 53",
        "-A FORWARD -d 198.51.100.10/32"]
    assert send(lab, "internet", "lb/shop", port=8443).verdict != "dropped"
    await lab.delete_service("shop")
    assert listeners(lab) == []
