"""A Gateway's legs, built as real namespaces and iptables rules: the internet to the
Envoy's LoadBalancer address and NodePorts, and the Envoy pod to the backend's endpoint (the
connection it opens itself). The proxy's choice between them is userspace, as the ingress
controller's; the kernel must agree with the model on every probe (needs root)."""

from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.lab import NODES
from playground.cluster.manifests import apply_files
from playground.verify.run import verify

QUICKSTART = str(Path(__file__).parents[1] / "data" / "gateway" / "quickstart.yaml")


async def test_the_quickstart_gateways_legs_match_the_kernel(kernel):
    lab = Cluster()
    await lab.start()
    try:
        for name, control_plane, ip, cidr in NODES[:2]:   # the smallest lab that shows it
            await lab.add_node(name, control_plane=control_plane, internal_ip=ip,
                               pod_cidr=cidr)
        await apply_files(lab, [QUICKSTART])
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    envoy = "pod/envoy-gateway-system/envoy-default-eg-e41e7b31-"
    to_gateway = [r for r in results if r.probe.kind == "outside→lb"]
    assert to_gateway and all(r.observed.server.startswith(envoy) for r in to_gateway)
    second = [r for r in results if r.probe.kind == "pod→pod"
              and r.probe.source_label.startswith(envoy)
              and r.probe.target_label.startswith("pod/default/backend-")]
    assert len(second) == 1 and second[0].probe.dport == 3000
