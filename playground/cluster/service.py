"""Service and EndpointSlice objects, and the checks the API server makes on a Service."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network

from playground.cluster import validation
from playground.cluster.objects import Named, ObjectMeta
from playground.cluster.service_fields import DEFAULT_AFFINITY_SECONDS, field_errors
from playground.cluster.service_fields import NODE_PORT_RANGE as NODE_PORT_RANGE  # its home

SERVICE_CIDR = IPv4Network("10.96.0.0/12")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
HEADLESS = "None"   # spec.clusterIP of a headless Service


@dataclass
class ServicePort:
    port: int
    target_port: int | str | None = None
    protocol: str = "TCP"
    name: str | None = None
    node_port: int | None = None


@dataclass
class ServiceSpec:
    ports: list[ServicePort]
    selector: dict[str, str] = field(default_factory=dict)
    type: str = "ClusterIP"
    cluster_ip: str | None = None
    load_balancer_ip: str | None = None
    session_affinity: str = "None"
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    load_balancer_source_ranges: list[str] = field(default_factory=list)
    external_ips: list[str] = field(default_factory=list)
    external_name: str = ""
    # allocated by the API server for a LoadBalancer with externalTrafficPolicy Local
    health_check_node_port: int | None = None
    allocate_load_balancer_node_ports: bool | None = None   # defaulted true on LoadBalancers
    session_affinity_timeout_seconds: int | None = None    # sessionAffinityConfig.clientIP

    def session_affinity_timeout(self) -> int:
        """How long a ClientIP affinity lasts: the given timeout, else the API's default."""
        return self.session_affinity_timeout_seconds or DEFAULT_AFFINITY_SECONDS


@dataclass
class ServiceStatus:
    load_balancer_ips: list[str] = field(default_factory=list)
    # status.loadBalancer.ingress[].ipMode, one for all of them: None (VIP), "VIP" or "Proxy"
    ip_mode: str | None = None


@dataclass
class Service(Named):
    metadata: ObjectMeta
    spec: ServiceSpec
    status: ServiceStatus = field(default_factory=ServiceStatus)
    kind: str = "Service"

    def port_name(self, port: ServicePort) -> str:
        """How kube-proxy names a Service port: NS/NAME:PORTNAME, or NS/NAME unnamed."""
        return f"{self.key}:{port.name}" if port.name else self.key

    @property
    def proxied(self) -> bool:
        """Whether Service proxies program it (IsServiceIPSet): a headless or ExternalName
        Service has no cluster IP, so only DNS knows it."""
        return self.spec.cluster_ip not in (None, "", HEADLESS) and \
            self.spec.type != "ExternalName"

    @property
    def vip_ips(self) -> list[str]:
        """The load balancer IPs Service proxies program (proxyutil.IsVIPMode): an ipMode
        Proxy address is a proxy's own, so traffic to it, from pods too, must reach it."""
        if self.spec.type != "LoadBalancer" or self.status.ip_mode not in (None, "VIP"):
            return []
        return self.status.load_balancer_ips

    @property
    def externally_accessible(self) -> bool:
        """apiservice.ExternallyAccessible: reached from outside the cluster at all."""
        return self.spec.type in ("NodePort", "LoadBalancer") or (
            self.spec.type == "ClusterIP" and bool(self.spec.external_ips))

    @property
    def external_policy_local(self) -> bool:
        return self.externally_accessible and self.spec.external_traffic_policy == "Local"


@dataclass
class Endpoint:
    address: str
    ready: bool = True
    node_name: str | None = None
    target: str | None = None  # the pod, NS/NAME
    serving: bool = True        # its pod is ready, terminating or not
    terminating: bool = False   # its pod is being deleted (its grace period)
    zone: str | None = None
    hostname: str | None = None  # a pod's spec.hostname, when its subdomain is the Service


@dataclass
class EndpointPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass
class EndpointSlice(Named):
    metadata: ObjectMeta
    service: str
    endpoints: list[Endpoint] = field(default_factory=list)
    ports: list[EndpointPort] = field(default_factory=list)
    kind: str = "EndpointSlice"


SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"


def slices_of(api, namespace: str, name: str) -> list[EndpointSlice]:
    """The EndpointSlices of a Service (by their kubernetes.io/service-name label)."""
    return api.indexed("EndpointSlice", "service", f"{namespace}/{name}")


def refuse_external_policy(service: Service, given: str | None) -> None:
    """externalTrafficPolicy given for a Service reached only inside the cluster."""
    validation.check("Service", service.name, validation.policy_errors(
        service.spec.type, given, service.spec.external_ips))


def validate_service(service: Service) -> None:
    spec, meta = service.spec, service.metadata
    policy = spec.external_traffic_policy
    validation.check("Service", service.name, validation.meta_errors(
        "Service", service.name, meta.namespace, meta.labels, meta.annotations)
        + validation.selector_errors(spec.selector, "spec.selector")
        + validation.service_spec_errors(spec, SERVICE_CIDR, SERVICE_TYPES,
                                         None if policy == "Cluster" else policy)
        + field_errors(spec))
