"""The embedded default lab: a kind-like cluster with a few pods, as the seed describes it."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.configmap import ConfigMap
from playground.cluster.deployment import Deployment, validate_deployment
from playground.cluster.dns import corefile
from playground.cluster.objects import Container, ContainerPort, ObjectMeta, Toleration
from playground.cluster.pod_template import PodTemplate
from playground.cluster.replicaset import HASH_LABEL, workload_hash
from playground.cluster.service import Endpoint, EndpointPort, EndpointSlice, ServicePort

# (name, control plane, InternalIP, pod CIDR): the addresses of the seed's routing table
NODES = [
    ("kind-control-plane", True, "172.18.0.4", "10.244.0.0/24"),
    ("kind-worker", False, "172.18.0.2", "10.244.1.0/24"),
    ("kind-worker2", False, "172.18.0.3", "10.244.2.0/24"),
]


def web(name: str = "web") -> list[Container]:
    return [Container(name, "nginx:1.27", [ContainerPort(80, "http")])]


async def build_default_lab(cni: str = "bridge", seed: int = 0,
                            proxy_mode: str = "iptables", lb: str = "cloud") -> Cluster:
    cluster = Cluster(cni=cni, seed=seed, proxy_mode=proxy_mode, lb=lb)
    await cluster.start()
    for name, control_plane, ip, cidr in NODES:
        await cluster.add_node(name, control_plane=control_plane, internal_ip=ip, pod_cidr=cidr)
    await add_coredns(cluster)
    # the scheduler spreads these: client and web-2 share kind-worker, web-1 and app kind-worker2
    await cluster.add_pod("client", [Container("client", "curlimages/curl:8.8.0")],
                          labels={"app": "client"})
    await cluster.add_pod("web-1", web(), labels={"app": "web"})
    await cluster.add_pod("web-2", web(), labels={"app": "web"})
    await cluster.add_pod("app", [
        Container("app", "python:3.12-slim", [ContainerPort(8080, "http")]),
        Container("sidecar", "envoyproxy/envoy:v1.30", [ContainerPort(9901, "admin")]),
    ], labels={"app": "app"})
    await add_system_services(cluster)
    await cluster.add_service("web", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"})
    return cluster


COREDNS_LABELS = {"k8s-app": "kube-dns"}


async def add_coredns(cluster: Cluster) -> None:
    """kubeadm's coredns Deployment (2 replicas, tolerating the control plane). Its two pods
    came up on the control-plane node before the workers joined, as on kind: they are made
    here at the names its ReplicaSet gave them, and the ReplicaSet claims them as its own
    (so building the lab draws no pod names from the random source the traces use)."""
    containers = [Container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", [
        ContainerPort(53, "dns", "UDP"), ContainerPort(53, "dns-tcp", "TCP"),
        ContainerPort(9153, "metrics", "TCP")])]
    tolerations = [Toleration("node-role.kubernetes.io/control-plane")]
    deployment = Deployment(ObjectMeta("coredns", "kube-system"), 2, dict(COREDNS_LABELS),
                            PodTemplate(dict(COREDNS_LABELS), containers,
                                        tolerations=tolerations))
    validate_deployment(deployment)
    cluster.api.create(ConfigMap(ObjectMeta("coredns", "kube-system"),
                                 {"Corefile": corefile.DEFAULT}))
    hash_ = workload_hash(deployment)
    for suffix in ("4x7kq", "9vx2m"):
        if suffix == "9vx2m":  # in the second the second pod comes, as the lab always had
            cluster.api.create(deployment)
        await cluster.add_pod(f"coredns-{hash_}-{suffix}", containers, namespace="kube-system",
                              labels={**COREDNS_LABELS, HASH_LABEL: hash_},
                              node_name="kind-control-plane", tolerations=tolerations)


async def add_system_services(cluster: Cluster) -> None:
    """`kubernetes` (the API server, endpoints kept by hand) and kube-dns, at kubeadm's IPs."""
    await cluster.add_service("kubernetes", [ServicePort(443, 6443, name="https")],
                              cluster_ip="10.96.0.1")
    cluster.api.create(EndpointSlice(
        ObjectMeta("kubernetes", "default", labels={"kubernetes.io/service-name": "kubernetes"}),
        service="default/kubernetes",
        endpoints=[Endpoint("172.18.0.4", True, "kind-control-plane")],
        ports=[EndpointPort(6443, "TCP", "https")]))
    await cluster.add_service("kube-dns", [
        ServicePort(53, 53, "UDP", "dns"), ServicePort(53, 53, "TCP", "dns-tcp"),
        ServicePort(9153, 9153, "TCP", "metrics")], namespace="kube-system",
        selector={"k8s-app": "kube-dns"}, cluster_ip="10.96.0.10")
