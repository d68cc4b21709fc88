"""The small fixed cluster the golden files of both proxy modes were written for."""

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort


async def small_cluster(proxy_mode: str = "iptables", web_affinity: str = "None") -> Cluster:
    cluster = Cluster(seed=1, proxy_mode=proxy_mode)
    await cluster.start()
    await cluster.add_node("n1", internal_ip="172.18.0.2", pod_cidr="10.244.1.0/24")
    await cluster.add_node("n2", internal_ip="172.18.0.3", pod_cidr="10.244.2.0/24")
    web = [Container("web", ports=[ContainerPort(8080, "http")])]
    for name, node in (("web-a", "n1"), ("web-b", "n2"), ("web-c", "n2")):
        await cluster.add_pod(name, web, labels={"app": "web"}, node_name=node)
    await cluster.add_service("web", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, cluster_ip="10.96.100.10",
                              session_affinity=web_affinity)
    await cluster.add_service("edge", [ServicePort(80, "http", name="http", node_port=30080)],
                              selector={"app": "web"}, cluster_ip="10.96.100.20",
                              type="NodePort", external_traffic_policy="Local")
    await cluster.add_service("dns", [ServicePort(53, 53, "UDP", "dns")],
                              selector={"app": "none"}, cluster_ip="10.96.100.30")
    return cluster
