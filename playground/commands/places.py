"""Everything a packet can start at or go to, spelled so that it resolves as written."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.gateway.status import gateway_view


def _spelled(kind: str, namespace: str, name: str) -> str:
    """A bare name is looked up in default, so any other namespace is written out."""
    return f"{kind}/{name}" if namespace == "default" else f"{kind}/{namespace}/{name}"


def places(cluster: Cluster) -> list[str]:
    found = []
    for pod in cluster.pods():
        if pod.status.pod_ip is None:  # no address yet: nothing to send from or to
            continue
        spelled = _spelled("pod", pod.metadata.namespace, pod.name)
        found.append(spelled)
        found += [f"{spelled}:{container.name}" for container in pod.spec.containers]
    for service in cluster.services():
        found.append(_spelled("svc", service.metadata.namespace, service.name))
    for service in cluster.services():
        if service.spec.type == "LoadBalancer" and service.status.load_balancer_ips:
            found.append(_spelled("lb", service.metadata.namespace, service.name))
    for gw in cluster.api.list("Gateway"):
        if gateway_view(cluster, gw).addresses:
            found.append(_spelled("gw", gw.metadata.namespace, gw.name))
    found += [f"node/{node.name}" for node in cluster.nodes()]
    return [*found, "internet"]
