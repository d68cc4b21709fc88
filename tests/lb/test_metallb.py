"""MetalLB in layer 2 (--lb metallb): addresses from IPAddressPools, one elected node that
answers ARP for each, a move with a gratuitous ARP, and what stays pending with an Event."""

import hashlib
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from playground.cli import main
from playground.cluster.cluster import ClusterError
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.manifests import apply_files
from playground.cluster.service import ServicePort
from playground.cluster.tables import services_table
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell

KIND_MANIFEST = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: kind-pool, namespace: metallb-system}
spec:
  addresses: [172.18.255.200-172.18.255.250]
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
  loadBalancerIP: 172.18.255.201
  selector: {app: nginx}
  ports: [{port: 80, targetPort: 80}]
"""
POOL = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: %s, namespace: metallb-system}
spec: {addresses: [%s], avoidBuggyIPs: %s}
"""
L2 = """\
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
"""


def written(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
async def kind(tmp_path):
    cluster = await build_default_lab(lb="metallb")
    await apply_files(cluster, [written(tmp_path, "kind.yaml", KIND_MANIFEST)])
    yield cluster
    await cluster.stop()


def hashed_first(nodes: list[str], address: str) -> str:
    """MetalLB's election, worked out here on its own: the lowest sha256(node#ip)."""
    return min(nodes, key=lambda n: hashlib.sha256(f"{n}#{address}".encode()).hexdigest())


def eligible(cluster) -> list[str]:
    """The nodes whose speaker may announce: kubeadm's label keeps the control plane out."""
    return [n.name for n in cluster.nodes()
            if "node.kubernetes.io/exclude-from-external-load-balancers" not in n.metadata.labels]


def events(cluster, reason: str) -> list[str]:
    return [e.message for e in cluster.api.events.entries if e.reason == reason]


def entry(trace) -> str:
    return next(h.where for h in trace.hops if h.where.startswith("node/"))


async def test_the_kind_manifest_gets_its_address_and_the_elected_node_answers_arp(kind):
    service = kind.api.peek("Service", "default", "nginx")
    assert service.status.load_balancer_ips == ["172.18.255.201"]
    assert service.metadata.annotations["metallb.io/ip-allocated-from-pool"] == "kind-pool"
    owner = hashed_first(eligible(kind), "172.18.255.201")
    assert events(kind, "IPAllocated") == ['Assigned IP ["172.18.255.201"]']
    assert events(kind, "nodeAssigned") == [
        f'announcing from node "{owner}" with protocol "layer2"']
    trace = send(kind, "internet", "lb/nginx")
    assert trace.verdict == "delivered"
    assert entry(trace) == f"node/{owner}"
    asked = next(h for h in trace.hops if h.where == "vpc-gateway" and "who-has" in h.detail)
    assert f"answered (metallb speaker on {owner})" in asked.detail
    gateway = kind.network.namespace("vpc-gateway")
    owner_mac = kind.network.namespace(f"node/{owner}").device("eth0").mac
    assert gateway.neighbours[IPv4Address("172.18.255.201")][0] == owner_mac   # ip neigh
    nat = kind.network.namespace("node/kind-worker").netfilter.save(["nat"], when="T")
    lb_rule = [line for line in nat.splitlines() if "loadbalancer IP" in line]
    assert len(lb_rule) == 1 and lb_rule[0].startswith(
        '-A KUBE-SERVICES -d 172.18.255.201/32 -p tcp -m comment --comment '
        '"default/nginx loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-')


async def test_the_address_moves_with_a_gratuitous_arp_when_its_node_goes(kind):
    first = hashed_first(eligible(kind), "172.18.255.201")
    assert entry(send(kind, "internet", "lb/nginx")) == f"node/{first}"
    await kind.remove_node(first)
    second = hashed_first(eligible(kind), "172.18.255.201")
    assert second != first
    assert events(kind, "nodeAssigned")[-1] == \
        f'announcing from node "{second}" with protocol "layer2"'
    trace = send(kind, "internet", "lb/nginx")
    assert trace.verdict == "delivered" and entry(trace) == f"node/{second}"
    cached = next(h for h in trace.hops if h.where == "vpc-gateway" and h.event == "xmit")
    assert "from a gratuitous ARP: 172.18.255.201 is-at" in cached.detail
    assert f"(metallb speaker on {second})" in cached.detail


async def test_with_the_local_policy_only_nodes_with_an_endpoint_may_announce(tmp_path):
    cluster = await build_default_lab(lb="metallb")
    try:
        await apply_files(cluster, [written(tmp_path, "pool.yaml",
                                            POOL % ("p", "172.18.255.200/29", "false") + L2)])
        # web-1 on kind-worker2, web-2 on kind-worker: kind-control-plane may not announce
        for offset in range(8):   # whatever address, the owner is a node with an endpoint
            await cluster.add_service(f"w{offset}", [ServicePort(80, "http")],
                                      type="LoadBalancer", selector={"app": "web"},
                                      external_traffic_policy="Local",
                                      load_balancer_ip=f"172.18.255.{200 + offset}")
        local = {p.spec.node_name for p in cluster.pods() if p.metadata.labels == {"app": "web"}}
        owners = {m.split('"')[1] for m in events(cluster, "nodeAssigned")}
        assert owners <= local and len(events(cluster, "nodeAssigned")) == 8
        expected = {hashed_first(sorted(local), f"172.18.255.{200 + o}") for o in range(8)}
        assert owners == expected
    finally:
        await cluster.stop()


async def test_what_metallb_cannot_serve_stays_pending_with_an_event(tmp_path):
    cluster = await build_default_lab(lb="metallb")
    try:
        web = dict(selector={"app": "web"}, type="LoadBalancer")
        await cluster.add_service("early", [ServicePort(80, "http")], **web)   # no pool yet
        assert events(cluster, "AllocationFailed") == [
            'Failed to allocate IP for "default/early": no available IPs']
        # a pool of .255 and .0 that avoids them has one address left, 172.18.254.254
        await apply_files(cluster, [written(tmp_path, "pool.yaml", POOL % (
            "tiny", "172.18.254.254-172.18.255.0", "true"))])
        assert cluster.api.peek("Service", "default", "early").status.load_balancer_ips == \
            ["172.18.254.254"]
        await cluster.add_service("full", [ServicePort(80, "http")], **web)
        await cluster.add_service("outside", [ServicePort(80, "http")], **web,
                                  load_balancer_ip="172.18.100.1")
        await cluster.add_service("other", [ServicePort(80, "http")], **web,
                                  load_balancer_class="example.com/other")
        await cluster.add_service("both", [ServicePort(80, "http")], **web,
                                  load_balancer_ip="172.18.254.254",
                                  annotations={"metallb.io/loadBalancerIPs": "172.18.254.254"})
        for name in ("full", "outside", "other", "both"):
            assert cluster.api.peek("Service", "default", name).status.load_balancer_ips == []
        assert events(cluster, "AllocationFailed")[1:] == [
            'Failed to allocate IP for "default/full": no available IPs',
            'Failed to allocate IP for "default/outside": ["172.18.100.1"] is not allowed in '
            'config',
            'Failed to allocate IP for "default/both": service can not have both '
            'metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP']
        rows = {line.split()[0]: line for line in cluster_table(cluster).splitlines()}
        assert "<pending>" in rows["outside"] and "<pending>" in rows["other"]
    finally:
        await cluster.stop()


def cluster_table(cluster) -> str:
    return services_table(cluster, "default", False)


async def test_the_annotation_asks_for_an_address_and_the_lab_file_keeps_it(tmp_path):
    cluster = await build_default_lab(lb="metallb")
    await apply_files(cluster, [written(tmp_path, "pool.yaml",
                                        POOL % ("p", "172.18.255.200/29", "false") + L2)])
    await cluster.add_service("shop", [ServicePort(80, "http")], selector={"app": "web"},
                              type="LoadBalancer", annotations={
                                  "metallb.universe.tf/loadBalancerIPs": "172.18.255.205"})
    assert cluster.api.peek("Service", "default", "shop").status.load_balancer_ips == \
        ["172.18.255.205"]
    path = tmp_path / "metallb.k8slab"
    await save_lab(Lab(cluster), path)
    loaded = await load_lab(path)
    try:
        assert loaded.cluster.lb.name == "metallb"
        assert [p.name for p in loaded.cluster.api.list("IPAddressPool")] == ["p"]
        owner = hashed_first(eligible(loaded.cluster), "172.18.255.205")
        trace = send(loaded.cluster, "internet", "lb/shop")
        assert trace.verdict == "delivered" and entry(trace) == f"node/{owner}"
    finally:
        await loaded.close()


async def test_without_metallb_its_kinds_are_not_known(lab, tmp_path):
    with pytest.raises(ClusterError, match='no matches for kind "IPAddressPool"'):
        await apply_files(lab, [written(tmp_path, "pool.yaml",
                                        POOL % ("p", "172.18.255.200/29", "false"))])
    assert lab.api.list("IPAddressPool") == []


@pytest.mark.parametrize(("addresses", "problem"), [
    ("172.18.255.250-172.18.255.200", "start IP 172.18.255.250 is after the end IP"),
    ("172.18.255.0/33", "invalid CIDR"),
])
async def test_a_pool_metallb_refuses_is_refused(addresses, problem, tmp_path):
    cluster = await build_default_lab(lb="metallb")
    try:
        with pytest.raises(ClusterError, match=problem):
            await apply_files(cluster, [written(tmp_path, "pool.yaml",
                                                POOL % ("p", addresses, "false"))])
        await apply_files(cluster, [written(tmp_path, "a.yaml",
                                            POOL % ("a", "172.18.255.0/28", "false"))])
        with pytest.raises(ClusterError, match="overlaps with already defined CIDR"):
            await apply_files(cluster, [written(tmp_path, "b.yaml",
                                                POOL % ("b", "172.18.255.8/29", "false"))])
    finally:
        await cluster.stop()


async def test_strict_arp_keeps_ipvs_nodes_from_answering_for_the_address(tmp_path):
    cluster = await build_default_lab(lb="metallb", proxy_mode="ipvs")
    try:
        await apply_files(cluster, [written(tmp_path, "kind.yaml", KIND_MANIFEST)])
        owner = hashed_first(eligible(cluster), "172.18.255.201")
        trace = send(cluster, "internet", "lb/nginx")
        asked = next(h for h in trace.hops if h.where == "vpc-gateway" and h.event == "xmit")
        assert "2 more answered too" in asked.detail   # kube-ipvs0 holds it on every node
        await cluster.update_proxy_config("kube-proxy", "kube-system", strict_arp=True)
        await cluster.remove_node("kind-control-plane" if owner != "kind-control-plane"
                                  else "kind-worker")   # a fresh who-has: the entry goes
        gateway = cluster.network.namespace("vpc-gateway")
        gateway.neighbours.clear()
        owner = hashed_first(eligible(cluster), "172.18.255.201")
        trace = send(cluster, "internet", "lb/nginx")
        asked = next(h for h in trace.hops if h.where == "vpc-gateway" and h.event == "xmit")
        assert "more answered" not in asked.detail
        assert f"answered (metallb speaker on {owner})" in asked.detail
        assert entry(trace) == f"node/{owner}"
    finally:
        await cluster.stop()


async def test_a_deleted_pool_takes_its_addresses_back(kind):
    shell = Shell(kind)
    gone = await shell.run("kubectl delete ipaddresspool kind-pool -n metallb-system")
    assert gone.output == 'ipaddresspool "kind-pool" deleted\n'
    assert kind.api.peek("Service", "default", "nginx").status.load_balancer_ips == []
    assert not any(ns.arp_responders for ns in kind.network.namespaces.values())
    described = (await shell.run("kubectl describe service nginx")).output
    assert "ClearAssignment" in described and "AllocationFailed" in described
    assert 'no available IPs' in described


def test_the_command_line_loads_a_kind_metallb_manifest(tmp_path, capsys):
    manifest = written(tmp_path, "kind.yaml", KIND_MANIFEST)
    assert main(["show", "iptables", "node/kind-worker", "--table", "nat", "--lb", "metallb",
                 "-f", manifest]) == 0
    nat = capsys.readouterr().out
    assert '-A KUBE-SERVICES -d 172.18.255.201/32 -p tcp -m comment --comment "default/nginx ' \
        'loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-' in nat
    assert main(["trace", "internet", "lb/nginx", "--lb", "metallb", "-f", manifest]) == 0
    assert "(metallb speaker on " in capsys.readouterr().out
    assert main(["trace", "internet", "lb/nginx", "-f", manifest]) != 0   # cloud: no CRDs
    assert 'no matches for kind "IPAddressPool"' in capsys.readouterr().err
