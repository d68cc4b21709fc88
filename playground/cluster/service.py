"""Service and EndpointSlice objects, and the checks the API server makes on a Service."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from playground.cluster import validation
from playground.cluster.objects import Named, ObjectMeta, ValidationError

SERVICE_CIDR = IPv4Network("10.96.0.0/12")
NODE_PORT_RANGE = range(30000, 32768)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
HEADLESS = "None"   # spec.clusterIP of a headless Service
TRAFFIC_POLICIES = ("Cluster", "Local")


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


@dataclass
class ServiceStatus:
    load_balancer_ips: list[str] = field(default_factory=list)


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


def port_name_problem(name: str) -> str | None:
    """validation.IsValidPortName: what is wrong with a named port (an int-or-string given
    as a string is a name, so "8080" in quotes is refused as the API server refuses it)."""
    if len(name) > 15:
        return "must be no more than 15 characters"
    if not re.fullmatch(r"[-a-z0-9]+", name):
        return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    if not re.search(r"[a-z]", name):
        return "must contain at least one letter (a-z)"
    if "--" in name:
        return "must not contain consecutive hyphens"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with a hyphen"
    return None


def refuse_external_policy(service: Service, given: str | None) -> None:
    """externalTrafficPolicy given for a Service reached only inside the cluster."""
    if given is not None and not service.externally_accessible:
        raise ValidationError(f"service {service.key}: spec.externalTrafficPolicy: Invalid "
                              f"value: \"{given}\": may only be set for externally-accessible "
                              "services")


def validate_service(service: Service) -> None:
    spec, meta = service.spec, service.metadata
    policy = spec.external_traffic_policy
    validation.check("Service", service.name, validation.meta_errors(
        "Service", service.name, meta.namespace, meta.labels, meta.annotations)
        + validation.selector_errors(spec.selector, "spec.selector")
        + validation.service_fields_errors(
            spec.type, spec.ports, spec.cluster_ip, SERVICE_CIDR,
            None if policy == "Cluster" else policy, spec.load_balancer_source_ranges,
            spec.external_ips, spec.external_name))
    where = f"service {service.key}"
    if spec.type not in SERVICE_TYPES:
        raise ValidationError(f"{where}: spec.type {spec.type!r} is not one of "
                              f"{', '.join(SERVICE_TYPES)}")
    for policy_field, named in (("external_traffic_policy", "externalTrafficPolicy"),
                                ("internal_traffic_policy", "internalTrafficPolicy")):
        if getattr(spec, policy_field) not in TRAFFIC_POLICIES:
            raise ValidationError(f"{where}: spec.{named} must be Cluster or Local")
    if spec.session_affinity not in ("None", "ClientIP"):
        raise ValidationError(f"{where}: sessionAffinity must be None or ClientIP")
    seen: set[tuple[int, str]] = set()
    names: set[str | None] = set()
    for port in spec.ports:
        label = f"{where}: port {port.port}"
        if not 1 <= port.port <= 65535:
            raise ValidationError(f"{label}: must be between 1 and 65535")
        if port.protocol not in validation.SERVICE_PROTOCOLS:
            raise ValidationError(f"{label}: protocol {port.protocol!r} must be TCP, UDP or "
                                  "SCTP")
        if (port.port, port.protocol) in seen:
            raise ValidationError(f"{label}/{port.protocol} is listed twice")
        seen.add((port.port, port.protocol))
        if len(spec.ports) > 1 and not port.name:
            raise ValidationError(f"{label}: a Service with several ports must name each one")
        if port.name in names:
            raise ValidationError(f"{where}: two ports are named {port.name!r}")
        names.add(port.name)
        target = port.target_port
        if isinstance(target, int) and not 1 <= target <= 65535:
            raise ValidationError(f"{label}: targetPort {target} must be between 1 and 65535")
        if isinstance(target, str) and (problem := port_name_problem(target)):
            index = spec.ports.index(port)
            raise ValidationError(f"{where}: spec.ports[{index}].targetPort: Invalid value: "
                                  f"\"{target}\": {problem}")
        if port.node_port is not None:
            if spec.type == "ClusterIP":
                raise ValidationError(f"{label}: nodePort needs type NodePort or LoadBalancer")
            if port.node_port not in NODE_PORT_RANGE:
                raise ValidationError(f"{label}: nodePort {port.node_port} is outside the range "
                                      "30000-32767")
    if spec.cluster_ip not in (None, "", HEADLESS):
        try:
            address = IPv4Address(spec.cluster_ip)
        except ValueError:
            raise ValidationError(f"{where}: clusterIP {spec.cluster_ip!r} is not an IPv4 "
                                  "address") from None
        if address not in SERVICE_CIDR:
            raise ValidationError(f"{where}: clusterIP {address} is not in the service range "
                                  f"{SERVICE_CIDR}")
    for source_range in spec.load_balancer_source_ranges:
        try:
            IPv4Network(source_range)
        except ValueError:
            raise ValidationError(f"{where}: loadBalancerSourceRanges entry {source_range!r} "
                                  "is not a CIDR") from None
