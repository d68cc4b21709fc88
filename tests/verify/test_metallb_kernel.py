"""MetalLB in layer 2, in the kernel: the elected node's speaker (a userspace ARP responder,
as MetalLB's) answers who-has for the address, the gateway's neighbour table ends with
that node's MAC, and the packets then take the node's kube-proxy rules like the model's."""

import subprocess
from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.lab import web
from playground.cluster.manifests import apply_files
from playground.cluster.service import ServicePort
from playground.verify.materialise import linux_name
from playground.verify.run import verify

POOL = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: kind-pool, namespace: metallb-system}
spec: {addresses: [172.18.255.200-172.18.255.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: empty, namespace: metallb-system}
"""


class Watching:
    """The kernel lab, and what the gateway's neighbour table holds before it goes."""

    seen = ""

    def __init__(self, built):
        from playground.verify.cleanup import KernelLab
        self.inner = KernelLab(built)

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, *exc):
        Watching.seen = subprocess.run(
            ["ip", "-n", linux_name("vpc-gateway"), "neigh", "show", "172.18.255.201"],
            capture_output=True, text=True, check=False).stdout
        return self.inner.__exit__(*exc)


async def test_the_announcing_node_answers_arp_and_the_legs_match_the_kernel(kernel, tmp_path):
    pool = Path(tmp_path / "pool.yaml")
    pool.write_text(POOL)
    lab = Cluster(lb="metallb")   # the smallest lab that shows it: two workers, one pod
    await lab.start()
    try:
        for name, ip, cidr in (("kind-worker", "172.18.0.2", "10.244.1.0/24"),
                               ("kind-worker2", "172.18.0.3", "10.244.2.0/24")):
            await lab.add_node(name, internal_ip=ip, pod_cidr=cidr)
        await lab.add_pod("web-1", web(), labels={"app": "web"}, node_name="kind-worker")
        await apply_files(lab, [str(pool)])
        await lab.add_service("nginx", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, type="LoadBalancer",
                              load_balancer_ip="172.18.255.201")
        owner = lab.lb.controller.owners["172.18.255.201"]
        owner_mac = lab.network.namespace(f"node/{owner}").device("eth0").mac
        results = verify(lab, lab=Watching)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    outside = [r for r in results if r.probe.kind == "outside→lb"]
    assert outside and all(r.observed.result == "reached" for r in outside)
    assert f"lladdr {owner_mac}" in Watching.seen, Watching.seen
