"""The seed's flows, built from real namespaces and sent for real: the kernel must agree
with the model on every probe (needs root, iproute2, iptables and conntrack)."""

import pytest

from playground.cluster.lab import build_default_lab
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.verify.run import verify


async def seed_flows_lab(cni: str):
    """The default lab plus the Services of the seed's flows (as tests/cluster builds them)."""
    lab = await build_default_lab(cni=cni)
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort")
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    await lab.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await lab.add_service("solo", [ServicePort(80, "http", name="http")],
                          selector={"app": "solo"}, type="LoadBalancer",
                          external_traffic_policy="Local")
    await lab.add_service("empty", [ServicePort(80, name="http")], selector={"app": "none"})
    await lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, session_affinity="ClientIP")
    return lab


def found(results, kind, source=None, target=None):
    return [r for r in results if r.probe.kind == kind
            and (source is None or r.probe.source_label == source)
            and (target is None or r.probe.target_label == target)]


@pytest.mark.parametrize("cni", ["bridge", "ptp", "vxlan"])
async def test_the_seed_flows_match_the_kernel(kernel, cni):
    lab = await seed_flows_lab(cni)
    try:
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    same_node = found(results, "pod→pod", "pod/default/client", "pod/default/web-2")
    across = found(results, "pod→pod", "pod/default/client", "pod/default/web-1")
    assert same_node[0].observed.server == "pod/default/web-2"
    assert across[0].observed.peer[0].exploded == "10.244.1.2"
    to_service = found(results, "pod→svc", "pod/default/client", "svc/default/web")[0]
    assert to_service.observed.result == "reached", "the reply came back un-NATed"
    hairpin = found(results, "pod→svc", "pod/default/web-2", "svc/default/web")[0]
    assert len({o.server for o in hairpin.outcomes}) == 2, "itself is one of the choices"
    nodeports = found(results, "outside→nodeport", target="node/kind-worker(default/web-np)")
    assert nodeports[0].observed.result == "reached"
    cluster_lb = found(results, "outside→lb", target="lb/default/shop")[0]
    local_lb = found(results, "outside→lb", target="lb/default/solo")[0]
    assert cluster_lb.observed.peer[0].exploded != "203.0.113.100", "Cluster hides the client"
    assert local_lb.observed.peer[0].exploded == "203.0.113.100", "Local keeps the client"
    egress = found(results, "pod→internet", "pod/default/client")[0]
    assert egress.observed.peer[0].exploded == "203.0.113.11", "the node's public IP"
    empty = found(results, "pod→svc", "pod/default/client", "svc/default/empty")[0]
    assert empty.observed.result == "refused" and {o.result for o in empty.outcomes} == {
        "refused"}
    sticky = found(results, "node→svc", target="svc/default/sticky")
    assert sticky and all(r.ok for r in sticky)
    again = found(results, "pod→svc again", "pod/default/client", "svc/default/sticky")[0]
    first = found(results, "pod→svc", "pod/default/client", "svc/default/sticky")[0]
    assert again.observed.server == first.observed.server, "ClientIP affinity"
    assert len(again.outcomes) == 1, "the model remembers the endpoint as the kernel does"
    inside = found(results, "node→nodeport", "node/kind-worker")
    assert {r.probe.target_label for r in inside} >= {"node/kind-worker(default/web-np)",
                                                      "node/kind-worker2(default/web-np)"}
    assert found(results, "pod→nodeport", "pod/default/client")
    to_lb = found(results, "pod→lb", "pod/default/client", "lb/default/shop")[0]
    assert to_lb.observed.result == "reached", "kube-proxy takes it before the cloud does"


async def test_an_error_that_cannot_come_home_is_a_timeout_in_both(kernel):
    from ipaddress import IPv4Network

    lab = await build_default_lab()
    try:
        # kind-worker forgets kind-worker2's pods: its packets go to the VPC gateway, whose
        # "net unreachable" has no way back to a pod address either
        lab.node_namespace("kind-worker").main.delete(IPv4Network("10.244.2.0/24"))
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    lost = found(results, "pod→pod", "pod/default/client", "pod/default/web-1")[0]
    assert lost.observed.result == "timeout" and lost.closest.result == "timeout"


async def test_a_hairpin_then_a_service_without_endpoints_from_the_same_pod(kernel):
    """The probe order that flaked: a ptp hairpin's redirect spent the pod's ICMP budget,
    and the port unreachable of the next probe was held back until the SYN came again."""
    lab = await build_default_lab(cni="ptp")
    try:
        await lab.add_service("zz-empty", [ServicePort(80, name="http"),
                                           ServicePort(53, protocol="UDP", name="dns")],
                              selector={"app": "none"})
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    empty = found(results, "pod→svc", "pod/default/web-2", "svc/default/zz-empty")
    assert {r.observed.result for r in empty} == {"refused"}
    from_nodes = [r for r in found(results, "node→svc", target="svc/default/zz-empty")
                  if r.probe.proto == "udp"]
    assert from_nodes and {r.observed.result for r in from_nodes} == {"not-permitted"}


async def service_api_lab(cni: str):
    """The Service features kube-proxy's rules change with: externalIPs (Cluster and Local),
    internalTrafficPolicy Local, and a Service whose only endpoints are terminating."""
    from playground.cluster.controllers.replicaset import delete_gracefully

    lab = await build_default_lab(cni=cni)
    await lab.add_service("front", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, external_ips=["192.0.2.10"])
    await lab.add_service("front-local", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, external_ips=["192.0.2.11"],
                          external_traffic_policy="Local")
    await lab.add_pod("near", [Container("near", ports=[ContainerPort(80, "http")])],
                      labels={"app": "near"}, node_name="kind-worker")
    await lab.add_service("near", [ServicePort(80, "http", name="http")],
                          selector={"app": "near"}, internal_traffic_policy="Local")
    await lab.add_pod("leaving", [Container("leaving", ports=[ContainerPort(80, "http")])],
                      labels={"app": "leaving"}, node_name="kind-worker2")
    await lab.add_service("leaving", [ServicePort(80, "http", name="http")],
                          selector={"app": "leaving"})
    delete_gracefully(lab.api, lab.api.peek("Pod", "default", "leaving"), lab.network.clock)
    await lab.settle()
    return lab


@pytest.mark.parametrize("cni", ["bridge", "ptp", "vxlan"])
async def test_external_ips_internal_local_and_terminating_endpoints_match_the_kernel(
        kernel, cni):
    lab = await service_api_lab(cni)
    try:
        assert lab.api.peek("Pod", "default", "leaving").terminating
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    external = found(results, "pod→externalIP", "pod/default/client", "externalIP/default/front")
    assert external[0].observed.result == "reached"
    assert found(results, "node→externalIP", "node/kind-worker2",
                 "externalIP/default/front-local")[0].observed.result == "reached"
    near = found(results, "pod→svc", "pod/default/client", "svc/default/near")[0]
    assert near.observed.server == "pod/default/near", "its node has the local endpoint"
    far = found(results, "pod→svc", "pod/default/web-1", "svc/default/near")[0]
    assert far.observed.result == "timeout", "no local endpoint on kind-worker2: DROP"
    leaving = found(results, "pod→svc", "pod/default/client", "svc/default/leaving")[0]
    assert leaving.observed.server == "pod/default/leaving", "served while it terminates"


async def proxy_node_lab(cni: str):
    """kube-proxy's per-node parts: a Local LoadBalancer (its health check node port on
    every node), source ranges that hold the nodes' own network and ones that do not, a
    NodePort reached on 127.0.0.1; its options that make each node's rules its own:
    nodePortAddresses without the control plane's IP, and NodeCIDR local detection."""
    lab = await build_default_lab(cni=cni)
    await lab.update_proxy_config("kube-proxy", "kube-system", detect_local_mode="NodeCIDR",
                                  node_port_addresses=["127.0.0.0/8", "172.18.0.2/32",
                                                       "172.18.0.3/32"])
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort")
    await lab.add_service("local", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          external_traffic_policy="Local")
    await lab.add_service("nodes-ok", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          load_balancer_source_ranges=["172.18.0.0/16"])
    await lab.add_service("outside-only", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          load_balancer_source_ranges=["203.0.113.0/24"])
    return lab


@pytest.mark.parametrize("cni", ["bridge", "ptp", "vxlan"])
async def test_health_checks_source_ranges_and_localhost_nodeports_match_the_kernel(kernel,
                                                                                     cni):
    lab = await proxy_node_lab(cni)
    try:
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    health = found(results, "node→healthcheck", "node/kind-worker")
    assert health and all(r.observed.result == "reached" for r in health)
    localhost = found(results, "node→localhost nodeport", "node/kind-worker",
                      "127.0.0.1(default/web-np)")[0]
    assert localhost.observed.result == "reached", "route_localnet lets the DNAT out"
    opened = found(results, "node→nodeport", "node/kind-worker",
                   "node/kind-worker(default/web-np)")[0]
    closed = found(results, "node→nodeport", "node/kind-worker2",
                   "node/kind-control-plane(default/web-np)")[0]
    assert opened.observed.result == "reached"
    assert closed.observed.result != "reached", "172.18.0.4 is not in nodePortAddresses"
    allowed = found(results, "node→lb", "node/kind-worker", "lb/default/nodes-ok")[0]
    refused = found(results, "node→lb", "node/kind-worker", "lb/default/outside-only")[0]
    assert allowed.observed.result == "reached"
    assert refused.observed.result != "reached", "KUBE-PROXY-FIREWALL drops the node"
    outside = found(results, "outside→lb", target="lb/default/outside-only")[0]
    assert outside.observed.result == "reached"
