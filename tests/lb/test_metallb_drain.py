"""What draining, cordoning or labelling the announcing node does to a MetalLB address, as
MetalLB v0.16.1's speaker decides it (speakersForAds: the memberlist, NetworkUnavailable,
exclude-from-external-load-balancers; never spec.unschedulable): its speaker is a DaemonSet
pod that a drain leaves running, so with the Cluster policy the address stays; with Local the
evicted endpoint takes the node out of the election; the label moves it at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.manifests import apply_files
from playground.shell import Shell

MANIFEST = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: kind-pool, namespace: metallb-system}
spec: {addresses: [172.18.255.200-172.18.255.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: empty, namespace: metallb-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  type: LoadBalancer
  externalTrafficPolicy: %s
  loadBalancerIP: 172.18.255.201
  selector: {app: nginx}
  ports: [{port: 80, targetPort: 80}]
"""


async def kind_lab(tmp_path: Path, policy: str):
    cluster = await build_default_lab(lb="metallb")
    path = tmp_path / "kind.yaml"
    path.write_text(MANIFEST % policy)
    await apply_files(cluster, [str(path)])
    return cluster


def entry(trace) -> str:
    return next(h.where for h in trace.hops if h.where.startswith("node/"))


def gateway_note(trace) -> str:
    return next(h.detail for h in trace.hops if h.where == "vpc-gateway" and h.event == "xmit")


def assigned(cluster) -> list[str]:
    return [e.message for e in cluster.api.events.entries if e.reason == "nodeAssigned"]


@pytest.mark.parametrize("policy", ["Cluster", "Local"])
async def test_draining_the_owner_moves_the_address_only_with_the_local_policy(tmp_path, policy):
    cluster = await kind_lab(tmp_path, policy)
    try:
        before = entry(send(cluster, "internet", "lb/nginx"))
        owner = before.removeprefix("node/")
        await Shell(cluster).run(f"kubectl cordon {owner}")
        assert entry(send(cluster, "internet", "lb/nginx")) == before   # cordon: no change
        text = (await Shell(cluster).run(f"kubectl drain {owner} --force")).output
        assert text.endswith(f"node/{owner} drained\n")
        trace = send(cluster, "internet", "lb/nginx")
        assert trace.verdict == "delivered"
        if policy == "Cluster":   # the speaker still runs there and still wins
            assert entry(trace) == before and len(assigned(cluster)) == 1
            assert trace.delivered_to.namespace.startswith("pod/default/nginx-")
            assert cluster.api.peek("Pod", *trace.delivered_to.namespace.split("/")[1:]) \
                .spec.node_name != owner   # kube-proxy there sends it to the other node
        else:   # no endpoint left on it: the other worker takes the address
            assert entry(trace) != before
            assert assigned(cluster)[-1] == \
                f'announcing from node "{entry(trace)[5:]}" with protocol "layer2"'
            assert "from a gratuitous ARP: 172.18.255.201 is-at" in gateway_note(trace)
    finally:
        await cluster.stop()


async def test_the_exclusion_label_moves_the_address_with_a_gratuitous_arp(tmp_path):
    cluster = await kind_lab(tmp_path, "Cluster")
    try:
        shell = Shell(cluster)
        first = entry(send(cluster, "internet", "lb/nginx"))[5:]
        await shell.run(f"kubectl label node {first} "
                        "node.kubernetes.io/exclude-from-external-load-balancers=true")
        trace = send(cluster, "internet", "lb/nginx")
        second = entry(trace)[5:]
        assert second not in (first, "kind-control-plane")   # kubeadm's label keeps it out
        assert f"(metallb speaker on {second})" in gateway_note(trace)
        assert "from a gratuitous ARP" in gateway_note(trace)
        # MetalLB asks only whether the key is there: "false" excludes as well
        await shell.run(f"kubectl label node {second} "
                        "node.kubernetes.io/exclude-from-external-load-balancers=false")
        assert cluster.api.peek("Service", "default", "nginx").status.load_balancer_ips
        assert len(assigned(cluster)) == 2   # nobody is left to announce: no new owner
    finally:
        await cluster.stop()
