"""Envoy Gateway (v1.6 followed) as the lab runs it: for each Gateway of its classes an
Envoy proxy Deployment and a LoadBalancer Service in its own namespace, named
envoy-NS-NAME-HASH, whose address becomes the Gateway's; the proxy connects to the
backend's endpoints."""

from __future__ import annotations

import hashlib

from playground.cluster.gateway import status
from playground.cluster.gateway.controller import GatewayController
from playground.cluster.gateway.objects import Gateway
from playground.cluster.gateway.routing import decide, request_of
from playground.cluster.gateway.status import Condition
from playground.cluster.legs import REASONS, Leg, send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

NAMESPACE = "envoy-gateway-system"
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.36.2"
APP_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
              "app.kubernetes.io/managed-by": "envoy-gateway"}
OWNER_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNER_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
PROXIED = ("HTTP", "HTTPS", "TCP")   # the protocols Envoy listens for


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


def _ports(gw: Gateway) -> list[int]:
    return sorted({lst.port for lst in gw.listeners if lst.protocol in PROXIED})


def _port_name(gw: Gateway, port: int) -> str:
    protocol = next(lst.protocol for lst in gw.listeners if lst.port == port)
    return f"{protocol.lower()}-{port}"


def _managed(obj) -> bool:
    labels = obj.spec.selector if obj.kind == "Service" else obj.template.labels
    return labels.get("app.kubernetes.io/managed-by") == "envoy-gateway"


class EnvoyGateway(GatewayController):
    """Installed in every lab, as its quickstart has it (GatewayClass `eg` is the user's)."""

    name = "gateway.envoyproxy.io/gatewayclass-controller"
    title = "Envoy Gateway"
    everywhere = True
    namespace = NAMESPACE

    route_messages = status.ROUTE_MESSAGES

    def listener_conditions(self, cluster, gw, listener) -> list[Condition]:
        return status.spec_listener_conditions(cluster, gw, listener)

    def supported_kinds(self, listener) -> list[str]:
        return status.supported(listener)

    def route_problem(self, route) -> str:
        return status.unsupported(route)

    def resolved_refs(self, cluster, route) -> Condition:
        return status.resolved_refs(cluster, route)

    def addresses(self, cluster, gw) -> list[str]:
        service = cluster.api.peek("Service", NAMESPACE, infra_name(gw))
        return list(service.status.load_balancer_ips) if service is not None else []

    def gateway_conditions(self, cluster, gw, listeners, addresses) -> list[Condition]:
        good = any(c.type == "Programmed" and c.status == "True"
                   for view in listeners for c in view.conditions)
        accepted = Condition("Accepted", "True", "Accepted", "The Gateway has been scheduled "
                             "by Envoy Gateway") if good else \
            Condition("Accepted", "False", "ListenersNotValid", "No listener is valid")
        if addresses:
            programmed = Condition("Programmed", "True", "Programmed", "Address assigned to "
                                   "the Gateway, 1/1 envoy replicas available")
        else:
            programmed = Condition("Programmed", "False", "AddressNotAssigned", "No addresses "
                                   "have been assigned to the Gateway")
        return [accepted, programmed]

    async def provision(self, cluster, gw: Gateway) -> None:
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
        await cluster.add_service(name, [ServicePort(p, container_port(p),
                                                     name=_port_name(gw, p)) for p in ports],
                                  namespace=NAMESPACE, selector=labels_of(gw),
                                  type="LoadBalancer", external_traffic_policy="Local")

    async def reconcile(self, cluster) -> None:
        """Every Gateway it serves has its proxy; a proxy whose Gateway is gone (or no
        longer its) is removed."""
        wanted = {}
        for gw in cluster.api.list("Gateway"):
            if self.serves(cluster, gw) and _ports(gw):
                wanted[infra_name(gw)] = gw
        for _, gw in sorted(wanted.items()):
            await self.provision(cluster, gw)
        for kind in ("Service", "Deployment"):
            for found in cluster.api.list(kind, NAMESPACE):
                if found.metadata.namespace == NAMESPACE and found.name.startswith("envoy-") \
                        and found.name not in wanted and _managed(found):
                    cluster.api.delete(kind, NAMESPACE, found.name)

    def follow(self, cluster, trace, request) -> Leg | None:
        """If the trace ended in one of its Envoy pods, route the request as it would: its
        own connection to the backend endpoint drawn, or its answer (404, a redirect, 500,
        503) sent back on the client's connection."""
        if trace.verdict != "delivered" or not trace.delivered_to.namespace.startswith("pod/"):
            return None
        _, namespace, name = trace.delivered_to.namespace.split("/")
        pod = cluster.api.peek("Pod", namespace, name)
        gw = gateway_of_pod(cluster, pod) if pod is not None else None
        if gw is None:
            return None
        dport = trace.delivered_packet.dport
        port = next((lst.port for lst in gw.listeners if container_port(lst.port) == dport), 0)
        decision = decide(cluster, gw, port, request_of(request), cluster.network.rng)
        why = f"{decision.why}; {decision.draw}" if decision.draw else decision.why
        if decision.code:
            answer = cluster.network.reply(trace)
            title = f"gateway {gw.key} answers {decision.code} {REASONS[decision.code]}" + (
                f" (Location: {decision.location})" if decision.location else "") + ":"
            return Leg(title, why, answer, "answer", decision.backend, "gateway")
        address, number = decision.endpoint
        leg = send(cluster, f"pod/{namespace}/{name}", address, port=number)
        return Leg(f"gateway {gw.key}'s Envoy opens its own connection to {address}:{number}:",
                   why, leg, "proxied", decision.backend, "gateway")
