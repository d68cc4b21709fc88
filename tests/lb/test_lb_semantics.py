"""What the API server takes of a LoadBalancer Service, whichever provider serves it:
loadBalancerIP and loadBalancerClass are accepted as Kubernetes accepts them, a Service the
provider cannot serve stays pending with an Event, and ipMode Proxy keeps kube-proxy's
shortcut for the address out of the nodes' rules."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.dataplane import Dataplane
from playground.cluster.service import ServicePort

WEB = dict(selector={"app": "web"}, type="LoadBalancer")


def warnings(lab) -> list[str]:
    return [e.line() for e in lab.api.events.entries if e.type == "Warning"]


async def test_the_cloud_takes_an_address_outside_its_pool_and_leaves_it_pending(lab):
    await lab.add_service("kindish", [ServicePort(80, "http")], **WEB,
                          load_balancer_ip="172.18.255.201")
    assert lab.api.peek("Service", "default", "kindish").status.load_balancer_ips == []
    assert warnings(lab) == [
        "Warning SyncLoadBalancerFailed service/default/kindish cloud-controller: Error "
        "syncing load balancer: failed to ensure load balancer: requested loadBalancerIP "
        "172.18.255.201 is not in the pool 198.51.100.0/24"]
    await lab.add_service("inpool", [ServicePort(80, "http")], **WEB,
                          load_balancer_ip="198.51.100.77")
    await lab.add_service("twin", [ServicePort(80, "http")], **WEB,
                          load_balancer_ip="198.51.100.77")
    assert lab.api.peek("Service", "default", "inpool").status.load_balancer_ips == \
        ["198.51.100.77"]
    assert lab.api.peek("Service", "default", "twin").status.load_balancer_ips == []
    assert warnings(lab)[-1].endswith("requested loadBalancerIP 198.51.100.77 is in use by "
                                      "default/inpool")


async def test_a_load_balancer_class_is_checked_and_someone_elses(lab):
    with pytest.raises(ClusterError, match=r"spec.loadBalancerClass: Forbidden: may only be "
                                           r"used when `type` is 'LoadBalancer'"):
        await lab.add_service("plain", [ServicePort(80, "http")], selector={"app": "web"},
                              load_balancer_class="example.com/lb")
    with pytest.raises(ClusterError, match=r'spec.loadBalancerClass: Invalid value: "a/b/c"'):
        await lab.add_service("bad", [ServicePort(80, "http")], **WEB,
                              load_balancer_class="a/b/c")
    await lab.add_service("theirs", [ServicePort(80, "http")], **WEB,
                          load_balancer_class="example.com/lb")
    assert lab.api.peek("Service", "default", "theirs").status.load_balancer_ips == []
    assert warnings(lab) == []   # the cloud's service controller leaves it to its owner
    with pytest.raises(ClusterError, match="spec.loadBalancerClass: Invalid value: "
                                           '"example.com/other": may not change once set'):
        await lab.update_service("theirs", load_balancer_class="example.com/other")


async def test_kube_proxy_writes_no_shortcut_for_an_address_in_proxy_mode(lab):
    await lab.add_service("shop", [ServicePort(80, "http")], **WEB)

    def rules() -> list[str]:
        nat = lab.network.namespace("node/kind-worker").netfilter.save(["nat"], when="T")
        return [line for line in nat.splitlines() if "loadbalancer IP" in line]

    assert len(rules()) == 1

    def proxy(current) -> None:
        current.status.load_balancer_ip_mode = "Proxy"
    lab.api.change("Service", "default", "shop", proxy)
    await lab.settle()
    assert rules() == []


def test_a_dataplane_names_its_load_balancer_provider():
    plane = Dataplane.parse("bridge/ipvs+metallb")
    assert (plane.cni, plane.proxy_mode, plane.lb) == ("bridge", "ipvs", "metallb")
    assert str(plane) == "bridge/ipvs+metallb" and str(Dataplane.parse("ptp")) == "ptp"
    assert plane.settings({"cni": "ptp"}) == {"cni": "bridge", "proxy_mode": "ipvs",
                                              "lb": "metallb"}
    with pytest.raises(ValueError, match="unknown load-balancer provider 'nope'"):
        Dataplane.parse("bridge+nope")
