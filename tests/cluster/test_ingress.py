"""One load balancer IP, many Services: the ingress controller routes by host and path."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.ingress import (
    Ingress,
    IngressBackend,
    IngressPath,
    IngressRule,
    choose,
)
from playground.cluster.legs import follow_ingress, send
from playground.cluster.objects import Container, ContainerPort, ObjectMeta
from playground.cluster.service import ServicePort


def rule(host, *paths):
    return IngressRule([IngressPath(IngressBackend(svc, 80), path, kind)
                        for path, kind, svc in paths], host)


def test_host_and_path_precedence():
    ingress = Ingress(ObjectMeta("site", "default"), [
        rule("shop.example.com", ("/", "Prefix", "shop"), ("/cart", "Prefix", "cart"),
             ("/cart/exact", "Exact", "exact")),
        rule("*.example.com", ("/", "Prefix", "wild")),
        rule(None, ("/", "Prefix", "any")),
    ])
    pick = lambda host, path: choose([ingress], host, path).backend.service  # noqa: E731
    assert pick("shop.example.com", "/") == "shop"
    assert pick("shop.example.com", "/cart/items") == "cart"
    assert pick("shop.example.com", "/cartoon") == "shop", "prefixes match whole elements"
    assert pick("shop.example.com", "/cart/exact") == "exact"
    assert pick("blog.example.com", "/") == "wild"
    assert pick("a.b.example.com", "/") == "any", "a wildcard covers one label only"
    assert pick("other.org", "/x") == "any"


async def two_sites(lab):
    for name in ("shop", "blog"):
        await lab.add_deployment(name, [Container(name, ports=[ContainerPort(8080, "http")])])
        await lab.add_service(name, [ServicePort(80, "http", name="http")],
                              selector={"app": name})
    await lab.add_ingress(Ingress(ObjectMeta("sites", "default"), [
        rule("shop.example.com", ("/", "Prefix", "shop")),
        rule("blog.example.com", ("/", "Prefix", "blog")),
    ]))


async def test_two_hosts_on_one_load_balancer_ip(lab):
    await two_sites(lab)
    controller = lab.find_service("ingress-nginx-controller", "ingress-nginx")
    assert controller.status.load_balancer_ips
    for host, app in (("shop.example.com", "shop"), ("blog.example.com", "blog")):
        trace = send(lab, "internet", "lb/ingress-nginx/ingress-nginx-controller:http")
        assert trace.verdict == "delivered"
        assert trace.delivered_to.namespace.startswith("pod/ingress-nginx/")
        leg = follow_ingress(lab, trace, host, "/")
        assert leg.why.startswith(f"ingress default/sites: host {host}")
        assert leg.trace.verdict == "delivered"
        assert leg.trace.delivered_to.namespace.startswith(f"pod/default/{app}-")
        assert leg.trace.delivered_packet.dport == 8080


async def test_an_ingress_to_a_missing_service_is_refused(lab):
    with pytest.raises(ClusterError, match="backend service 'nope' does not exist"):
        await lab.add_ingress(Ingress(ObjectMeta("bad", "default"),
                                      [rule(None, ("/", "Prefix", "nope"))]))
    assert lab.ingresses() == []
