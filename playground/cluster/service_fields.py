"""The Service fields the API server defaults and allocates beside the node ports:
healthCheckNodePort, allocateLoadBalancerNodePorts, sessionAffinityConfig
(pkg/apis/core/validation, pkg/apis/core/v1/defaults.go, pkg/registry/core/service/storage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.cluster.validation import FieldError, label_key

if TYPE_CHECKING:
    from playground.cluster.service import ServiceSpec

DEFAULT_AFFINITY_SECONDS = 10800   # sessionAffinityConfig.clientIP.timeoutSeconds' default
MAX_AFFINITY_SECONDS = 86400       # core.MaxClientIPServiceAffinitySeconds
NODE_PORT_RANGE = range(30000, 32768)

HEALTH_CHECK_ONLY = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` " \
    "is 'Local'"


def needs_health_check(spec: ServiceSpec) -> bool:
    """apiservice.NeedsHealthCheck: kube-proxy answers the load balancer's health checks."""
    return spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"


def field_errors(spec: ServiceSpec) -> list[FieldError]:
    errors = []
    port = spec.health_check_node_port
    if port and not needs_health_check(spec):
        errors.append(FieldError("spec.healthCheckNodePort", "Invalid value", port,
                                 HEALTH_CHECK_ONLY))
    timeout = spec.session_affinity_timeout_seconds
    if spec.session_affinity == "None" and timeout is not None:
        errors.append(FieldError("spec.sessionAffinityConfig", "Forbidden",
                                 detail="must not be set when session affinity is None"))
    elif timeout is not None and not 0 < timeout <= MAX_AFFINITY_SECONDS:
        errors.append(FieldError("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                                 "Invalid value", timeout, "must be greater than 0 and less "
                                 f"than {MAX_AFFINITY_SECONDS}"))
    if spec.allocate_load_balancer_node_ports is not None and spec.type != "LoadBalancer":
        errors.append(FieldError("spec.allocateLoadBalancerNodePorts", "Forbidden",
                                 detail="may only be used when `type` is 'LoadBalancer'"))
    if spec.load_balancer_class is not None:   # validateLoadBalancerClassField's create half
        if spec.type != "LoadBalancer":
            errors.append(FieldError("spec.loadBalancerClass", "Forbidden",
                                     detail="may only be used when `type` is 'LoadBalancer'"))
        errors += [FieldError("spec.loadBalancerClass", "Invalid value",
                              spec.load_balancer_class, message)
                   for message in label_key(spec.load_balancer_class)]
    return errors


def class_change_errors(old: ServiceSpec, new: ServiceSpec) -> list[FieldError]:
    """The update half: a LoadBalancer's class may not change once set, nor be set later."""
    if old.type != "LoadBalancer" or new.type != "LoadBalancer":
        return []
    if old.load_balancer_class != new.load_balancer_class:
        return [FieldError("spec.loadBalancerClass", "Invalid value", new.load_balancer_class,
                           "may not change once set")]
    return []


def apply_defaults(spec: ServiceSpec) -> None:
    """SetDefaults_Service: the affinity timeout and allocateLoadBalancerNodePorts."""
    if spec.session_affinity == "ClientIP" and spec.session_affinity_timeout_seconds is None:
        spec.session_affinity_timeout_seconds = DEFAULT_AFFINITY_SECONDS
    if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
        spec.allocate_load_balancer_node_ports = True


def allocates_node_ports(spec: ServiceSpec) -> bool:
    return spec.type == "NodePort" or (
        spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is not False)


def health_check_problem(port: int, used: dict[int, str]) -> str | None:
    """Why the node-port allocator refuses a requested healthCheckNodePort, if it does."""
    if port not in NODE_PORT_RANGE:
        return ("provided port is not in the valid range. The range of valid ports is "
                f"{NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}")
    if port in used:
        return "provided port is already allocated"
    return None
