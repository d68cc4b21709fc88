"""cloud-provider-kind's Gateway Envoy built as a real namespace on the node network: the
internet reaches it at the Gateway's address, and its own connection to the backend's
ClusterIP goes through its route-adder route to the control-plane node, whose real
kube-proxy rules pick the endpoint (needs root)."""

from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.lab import NODES
from playground.cluster.manifests import apply_files
from playground.gateway.cloud_provider_kind import container_name
from playground.verify.run import verify

SIMPLE = str(Path(__file__).parents[1] / "data" / "gateway" / "kind-simple.yaml")


async def test_the_kind_gateways_envoy_and_its_clusterip_leg_match_the_kernel(kernel):
    lab = Cluster(lb="cloud-provider-kind")
    await lab.start()
    try:
        for name, control_plane, ip, cidr in NODES[:2]:   # the smallest lab that shows it
            await lab.add_node(name, control_plane=control_plane, internal_ip=ip,
                               pod_cidr=cidr)
        await apply_files(lab, [SIMPLE])
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    envoy = container_name("default", "prod-web")
    to_gateway = [r for r in results if r.probe.kind == "outside→gateway"]
    assert to_gateway and all(r.observed.server == envoy for r in to_gateway)
    onward = [r for r in results if r.probe.kind == "gateway→svc"
              and r.probe.target_label == "svc/default/myapp-svc"]
    assert len(onward) == 1 and onward[0].observed.server.startswith("pod/default/myapp-")
