"""cloud-provider-kind's Envoy built as a real namespace on the node network: every client
reaches it at the LB IP (ipMode Proxy: no kube-proxy shortcut), and its own connections to
the NodePorts and health checks go through the nodes' real rules (needs root)."""

from playground.cluster.cluster import Cluster
from playground.cluster.lab import web
from playground.cluster.service import ServicePort
from playground.verify.run import verify


async def test_the_envoy_and_its_nodeport_legs_match_the_kernel(kernel):
    lab = Cluster(lb="cloud-provider-kind")
    await lab.start()
    try:
        await lab.add_node("kind-control-plane", control_plane=True, internal_ip="172.18.0.3")
        await lab.add_node("kind-worker", internal_ip="172.18.0.2")
        await lab.add_pod("web-1", web(), labels={"app": "web"}, node_name="kind-worker")
        await lab.add_service("web", [ServicePort(80, 80, name="http")],
                              selector={"app": "web"}, type="LoadBalancer",
                              external_traffic_policy="Local")
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    envoy = "kindccm-" in " ".join(r.probe.source for r in results)
    assert envoy
    to_lb = [r for r in results if r.probe.kind in ("outside→lb", "node→lb", "pod→lb")]
    assert to_lb and all(r.observed.server.startswith("kindccm-") for r in to_lb)
    legs = [r for r in results if r.probe.kind == "proxy→nodeport"]
    assert len(legs) == 2
    local = next(r for r in legs if r.probe.target_label.startswith("node/kind-worker("))
    assert local.observed.server == "pod/default/web-1"
    assert local.observed.peer[0].exploded == "172.18.0.4", "Local: the pod sees the Envoy"
    checks = [r for r in results if r.probe.kind == "proxy→healthcheck"]
    assert len(checks) == 2 and all(r.observed.server.startswith("node/") for r in checks)
