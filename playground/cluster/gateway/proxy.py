"""The Gateway controllers the lab runs, found by their controllerName, and what one makes
for each Gateway of its classes: Envoy Gateway (v1.6 followed) runs an Envoy proxy
Deployment and a LoadBalancer Service in its own namespace, named envoy-NS-NAME-HASH, whose
address becomes the Gateway's. cloud-provider-kind's own Gateway support would be a second
entry of CONTROLLERS, with its own `provision`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from playground.cluster.gateway.objects import Gateway
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

NAMESPACE = "envoy-gateway-system"
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.36.2"
APP_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
              "app.kubernetes.io/managed-by": "envoy-gateway"}
OWNER_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNER_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
PROXIED = ("HTTP", "HTTPS", "TCP")   # the protocols Envoy listens for


@dataclass(frozen=True)
class Controller:
    name: str          # its controllerName
    title: str         # as a status message names it


ENVOY_GATEWAY = Controller("gateway.envoyproxy.io/gatewayclass-controller", "Envoy Gateway")
CONTROLLERS = {c.name: c for c in (ENVOY_GATEWAY,)}


def class_is_ours(cluster, class_name: str) -> bool:
    gc = cluster.api.peek("GatewayClass", "", class_name)
    return gc is not None and gc.controller_name in CONTROLLERS


def infra_name(gw: Gateway) -> str:
    """GetHashedName: NS-NAME (cut at 48 characters) and 8 hex digits of sha256(NS/NAME)."""
    key = f"{gw.metadata.namespace}/{gw.name}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"envoy-{key.replace('/', '-')[:48].rstrip('-')}-{digest}"


def container_port(port: int) -> int:
    """Envoy runs unprivileged: a port below 1024 is listened on 10000 higher."""
    return port + 10000 if port < 1024 else port


def labels_of(gw: Gateway) -> dict[str, str]:
    return {**APP_LABELS, OWNER_NAME: gw.name, OWNER_NAMESPACE: gw.metadata.namespace}


def gateway_of_pod(cluster, pod) -> Gateway | None:
    """The Gateway an Envoy pod serves (None for any other pod)."""
    labels = pod.metadata.labels
    if pod.metadata.namespace != NAMESPACE or any(
            labels.get(k) != v for k, v in APP_LABELS.items()):
        return None
    return cluster.api.peek("Gateway", labels.get(OWNER_NAMESPACE, ""),
                            labels.get(OWNER_NAME, ""))


def envoy_service_of(cluster, gw: Gateway):
    return cluster.api.peek("Service", NAMESPACE, infra_name(gw))


def _ports(gw: Gateway) -> list[int]:
    return sorted({lst.port for lst in gw.listeners if lst.protocol in PROXIED})


async def provision(cluster, gw: Gateway) -> None:
    """The proxy and its LoadBalancer Service, as Envoy Gateway's infrastructure runner
    makes them (one replica, externalTrafficPolicy Local)."""
    name = infra_name(gw)
    if cluster.api.peek("Deployment", NAMESPACE, name) is not None:
        return
    if not cluster.has_namespace(NAMESPACE):
        await cluster.add_namespace(NAMESPACE)
    ports = _ports(gw)
    await cluster.add_deployment(name, [Container("envoy", ENVOY_IMAGE, [
        ContainerPort(container_port(p), _port_name(gw, p)) for p in ports])],
        labels=labels_of(gw), namespace=NAMESPACE)
    await cluster.add_service(name, [ServicePort(p, container_port(p), name=_port_name(gw, p))
                                     for p in ports],
                              namespace=NAMESPACE, selector=labels_of(gw), type="LoadBalancer",
                              external_traffic_policy="Local")


def _port_name(gw: Gateway, port: int) -> str:
    protocol = next(lst.protocol for lst in gw.listeners if lst.port == port)
    return f"{protocol.lower()}-{port}"


async def reconcile(cluster) -> None:
    """Every Gateway of a class the lab runs has its proxy; a proxy whose Gateway is gone
    (or no longer ours) is removed."""
    wanted = {}
    for gw in cluster.api.list("Gateway"):
        if class_is_ours(cluster, gw.gateway_class_name) and _ports(gw):
            wanted[infra_name(gw)] = gw
    for _, gw in sorted(wanted.items()):
        await provision(cluster, gw)
    for kind in ("Service", "Deployment"):
        for found in cluster.api.list(kind, NAMESPACE):
            if found.metadata.namespace == NAMESPACE and found.name.startswith("envoy-") and \
                    found.name not in wanted and _managed(found):
                cluster.api.delete(kind, NAMESPACE, found.name)
    await cluster.settle()


def _managed(obj) -> bool:
    labels = obj.spec.selector if obj.kind == "Service" else obj.template.labels
    return labels.get("app.kubernetes.io/managed-by") == "envoy-gateway"
