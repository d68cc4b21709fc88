"""Manifest documents to lab objects, one function per kind (named in the table of kinds);
every problem names the document and the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from playground.cluster import validation
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.configmap import ConfigMap
from playground.cluster.daemonset import DaemonSet
from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.endpoint_slices import service_of, validate_endpoint_slice
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.metallb_objects import (
    IPAddressPool,
    L2Advertisement,
    NodeSelector,
    validate_advertisement,
    validate_pool,
)
from playground.cluster.netpol.parse import policy_from_doc
from playground.cluster.objects import (
    Container,
    ContainerPort,
    LabelSelectorRequirement,
    ObjectMeta,
    Toleration,
    host_network_defaults,
)
from playground.cluster.pod_template import SPEC_FIELDS, PodTemplate
from playground.cluster.replicaset import random_suffix
from playground.cluster.service import Endpoint, EndpointPort, EndpointSlice, ServicePort
from playground.cluster.statefulset import StatefulSet

MAX_GENERATED_PREFIX = 58   # names.SimpleNameGenerator: 63 less the 5 random characters


class ManifestError(ClusterError):
    pass


class ManifestDoc:
    """One YAML document with helpers that name the field in every error."""

    def __init__(self, where: str, data: dict) -> None:
        self.where, self.data = where, data

    def fail(self, path: str, problem: str):
        raise ManifestError(f"{self.where}: {path}: {problem}")

    def get(self, path: str, kind: type | tuple, default: Any = None, node: Any = None,
            at: str = "") -> Any:
        """The value at `path` (inside `node`, found at `at`), checked against `kind`."""
        value = self.data if node is None else node
        path = f"{at}.{path}" if at else path
        for part in path[len(at) + 1 if at else 0:].split("."):
            if not isinstance(value, dict):
                self.fail(path, "expected a mapping")
            value = value.get(part)
            if value is None:
                return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            self.fail(path, f"expected {names}, got {type(value).__name__} {value!r}")
        return value

    def entries(self, path: str, node: Any = None, at: str = "") -> Iterator[tuple[str, dict]]:
        """Each mapping of the list at `path`, with the path that names it in errors."""
        full = f"{at}.{path}" if at else path
        for index, item in enumerate(self.get(path, list, [], node, at)):
            where = f"{full}[{index}]"
            if not isinstance(item, dict):
                self.fail(where, "expected a mapping")
            yield where, item

    def labels(self, path: str, node: Any = None) -> dict[str, str]:
        found = self.get(path, dict, {}, node)
        for key, value in found.items():
            if not isinstance(key, str) or not isinstance(value, (str, int, float)):
                self.fail(path, f"label {key!r} must map a string to a string")
        return {key: str(value) for key, value in found.items()}


def _meta(doc: ManifestDoc, cluster: Cluster) -> tuple[str, str]:
    """The name (or one made from metadata.generateName, as the API server makes it: the
    prefix, at most 58 characters, and 5 random ones) and the namespace."""
    name = doc.get("metadata.name", str)
    prefix = doc.get("metadata.generateName", str)
    if not name and prefix:
        name = prefix[:MAX_GENERATED_PREFIX] + random_suffix(cluster.network.rng)
    if not name:
        doc.fail("metadata.name", "Required value: name or generateName is required")
    return name, doc.get("metadata.namespace", str, "default")


def _template(doc: ManifestDoc) -> PodTemplate:
    """A workload's spec.template: its containers defaulted as the API server defaults the
    template's PodSpec (on the node's network a port's hostPort is its containerPort)."""
    host_network = doc.get("spec.template.spec.hostNetwork", bool, False)
    return PodTemplate(
        doc.labels("spec.template.metadata.labels"),
        host_network_defaults(_containers(doc, "spec.template.spec.containers"), host_network),
        doc.labels("spec.template.spec.nodeSelector"),
        _tolerations(doc, "spec.template.spec.tolerations"), host_network,
        doc.get("spec.template.spec.dnsPolicy", str, "ClusterFirst"),
        _dns_config(doc, "spec.template.spec.dnsConfig"))


def _containers(doc: ManifestDoc, path: str, node: Any = None) -> list[Container]:
    items = list(doc.entries(path, node))
    if not items:
        doc.fail(path, "at least one container is required")
    containers = []
    for here, item in items:
        ports = []
        for where, port in doc.entries("ports", item, here):
            container_port = doc.get("containerPort", int, None, port, where)
            if container_port is None:
                doc.fail(f"{where}.containerPort", "is required")
            ports.append(ContainerPort(container_port, doc.get("name", str, None, port, where),
                                       doc.get("protocol", str, "TCP", port, where),
                                       doc.get("hostPort", int, None, port, where) or None,
                                       doc.get("hostIP", str, "", port, where)))
        name = doc.get("name", str, None, item, here)
        if name is None:
            doc.fail(f"{here}.name", "is required")
        containers.append(Container(name, doc.get("image", str, "busybox", item, here), ports))
    return containers


async def apply_namespace(cluster: Cluster, doc: ManifestDoc) -> None:
    name, _ = _meta(doc, cluster)
    await cluster.add_namespace(name, doc.labels("metadata.labels"))


async def apply_network_policy(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    await cluster.add_network_policy(policy_from_doc(doc, name, namespace))


async def apply_config_map(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    data = doc.get("data", dict, {})
    for key, value in data.items():
        if not isinstance(value, str):
            doc.fail(f"data.{key}", f"expected str, got {type(value).__name__} {value!r}")
    await cluster.add_config_map(ConfigMap(ObjectMeta(name, namespace,
                                                      doc.labels("metadata.labels")),
                                           {str(k): v for k, v in data.items()}))


async def apply_pod(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    await cluster.add_pod(name, _containers(doc, "spec.containers"), namespace=namespace,
                          labels=doc.labels("metadata.labels"),
                          annotations=doc.labels("metadata.annotations"),
                          node_name=doc.get("spec.nodeName", str),
                          tolerations=_tolerations(doc, "spec.tolerations"),
                          node_selector=doc.labels("spec.nodeSelector"),
                          host_network=doc.get("spec.hostNetwork", bool, False),
                          dns_policy=doc.get("spec.dnsPolicy", str, "ClusterFirst"),
                          dns_config=_dns_config(doc, "spec.dnsConfig"))


def _dns_config(doc: ManifestDoc, path: str) -> DnsConfig | None:
    """spec.dnsConfig: nameservers and searches as strings, options as NAME[:VALUE]."""
    if doc.get(path, dict) is None:
        return None
    options = []
    for where, item in doc.entries("options", doc.get(path, dict), path):
        name = doc.get("name", str, "", item, where)
        value = doc.get("value", str, None, item, where)
        options.append(name if value is None else f"{name}:{value}")
    return DnsConfig(tuple(_strings(doc, f"{path}.nameservers")),
                     tuple(_strings(doc, f"{path}.searches")), tuple(options))


def _tolerations(doc: ManifestDoc, path: str) -> list[Toleration]:
    found = []
    for where, item in doc.entries(path):
        value = doc.get("value", str, "", item, where)
        operator = doc.get("operator", str, "Equal" if value else "Exists", item, where)
        found.append(Toleration(doc.get("key", str, "", item, where), operator,
                                doc.get("effect", str, "", item, where), value))
    return found


def _expressions(doc: ManifestDoc, path: str) -> list[LabelSelectorRequirement]:
    found = []
    for where, item in doc.entries(path):
        key = doc.get("key", str, None, item, where)
        if key is None:
            doc.fail(f"{where}.key", "Required value")
        values = doc.get("values", list, [], item, where)
        if not all(isinstance(v, str) for v in values):
            doc.fail(f"{where}.values", "expected a list of strings")
        found.append(LabelSelectorRequirement(key, doc.get("operator", str, "", item, where),
                                              list(values)))
    return found


async def apply_deployment(cluster: Cluster, doc: ManifestDoc) -> None:
    """A new Deployment, or a change to one there (kubectl apply): a new template rolls out."""
    name, namespace = _meta(doc, cluster)
    selector = doc.labels("spec.selector.matchLabels")
    template = _template(doc)
    labels, containers = template.labels, template.containers
    spec = {"replicas": doc.get("spec.replicas", int, 1),
            "strategy": doc.get("spec.strategy.type", str, "RollingUpdate"),
            "max_surge": doc.get("spec.strategy.rollingUpdate.maxSurge", (int, str), "25%"),
            "max_unavailable": doc.get("spec.strategy.rollingUpdate.maxUnavailable", (int, str),
                                       "25%"),
            "min_ready_seconds": doc.get("spec.minReadySeconds", int, 0),
            "revision_history_limit": doc.get("spec.revisionHistoryLimit", int, 10),
            "selector_expressions": _expressions(doc, "spec.selector.matchExpressions"),
            **{key: getattr(template, key) for key in sorted(SPEC_FIELDS)}}
    if cluster.api.peek("Deployment", namespace, name) is None:
        await cluster.add_deployment(name, containers, labels=labels or None,
                                     namespace=namespace, selector=selector or None, **spec)
    else:
        await cluster.update_deployment(name, namespace, containers=containers,
                                        labels=labels or {"app": name},
                                        selector=selector or labels or {"app": name}, **spec)


async def apply_daemonset(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    await cluster.add_daemon_set(DaemonSet(
        ObjectMeta(name, namespace, labels=doc.labels("metadata.labels")),
        doc.labels("spec.selector.matchLabels"), _template(doc),
        _expressions(doc, "spec.selector.matchExpressions")))


async def apply_statefulset(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    await cluster.add_stateful_set(StatefulSet(
        ObjectMeta(name, namespace, labels=doc.labels("metadata.labels")),
        doc.get("spec.replicas", int, 1), doc.get("spec.serviceName", str, ""),
        doc.labels("spec.selector.matchLabels"), _template(doc),
        _expressions(doc, "spec.selector.matchExpressions"),
        doc.get("spec.podManagementPolicy", str, "OrderedReady")))


def _strings(doc: ManifestDoc, path: str) -> list[str]:
    items = doc.get(path, list, [])
    for index, item in enumerate(items):
        if not isinstance(item, str):
            doc.fail(f"{path}[{index}]", f"expected str, got {type(item).__name__} {item!r}")
    return list(items)


async def apply_service(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    ports = []
    for where, port in doc.entries("spec.ports"):
        number = doc.get("port", int, 0, port, where)  # absent: 0, refused by the port rule
        ports.append(ServicePort(number, doc.get("targetPort", (int, str), None, port, where),
                                 doc.get("protocol", str, "TCP", port, where),
                                 doc.get("name", str, None, port, where),
                                 doc.get("nodePort", int, None, port, where)))
    kind = doc.get("spec.type", str, "ClusterIP")
    external_ips = _strings(doc, "spec.externalIPs")
    try:  # given at all on a ClusterIP Service is refused; the model defaults it to Cluster
        validation.check("Service", name, validation.policy_errors(
            kind, doc.get("spec.externalTrafficPolicy", str), external_ips))
    except validation.ValidationError as error:
        raise ManifestError(f"{doc.where}: {error}") from None
    await cluster.add_service(
        name, ports, namespace=namespace, selector=doc.labels("spec.selector"),
        type=kind, cluster_ip=doc.get("spec.clusterIP", str),
        annotations=doc.labels("metadata.annotations"),
        load_balancer_ip=doc.get("spec.loadBalancerIP", str),
        load_balancer_class=doc.get("spec.loadBalancerClass", str),
        session_affinity=doc.get("spec.sessionAffinity", str, "None"),
        external_traffic_policy=doc.get("spec.externalTrafficPolicy", str, "Cluster"),
        internal_traffic_policy=doc.get("spec.internalTrafficPolicy", str, "Cluster"),
        load_balancer_source_ranges=[str(r) for r in doc.get(
            "spec.loadBalancerSourceRanges", list, [])],
        external_ips=external_ips, external_name=doc.get("spec.externalName", str, ""),
        health_check_node_port=doc.get("spec.healthCheckNodePort", int),
        allocate_load_balancer_node_ports=doc.get("spec.allocateLoadBalancerNodePorts", bool),
        session_affinity_timeout_seconds=doc.get(
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds", int))


async def apply_endpoint_slice(cluster: Cluster, doc: ManifestDoc) -> None:
    """A slice written by hand (a Service without a selector, or endpoints outside the
    cluster): its first address per endpoint, its conditions, node, zone and hostname."""
    name, namespace = _meta(doc, cluster)
    address_type = doc.get("addressType", str)
    if address_type is None:
        doc.fail("addressType", "Required value")
    if address_type in ("IPv6", "FQDN"):
        doc.fail("addressType", f'"{address_type}": the lab models IPv4 only')
    endpoints, counts = [], []
    for where, item in doc.entries("endpoints"):
        addresses = list(doc.get("addresses", list, [], item, where))
        for index, address in enumerate(addresses):
            if not isinstance(address, str):
                doc.fail(f"{where}.addresses[{index}]", f"expected str, got {address!r}")
        counts.append(len(addresses))
        ready = doc.get("conditions.ready", bool, True, item, where)   # nil: ready
        ref = doc.get("targetRef", dict, None, item, where)
        target = None
        if ref is not None:
            target_name = doc.get("name", str, "", ref, f"{where}.targetRef")
            target = f"{doc.get('namespace', str, namespace, ref, where)}/{target_name}"
        endpoints.append(Endpoint(
            addresses[0] if addresses else "", ready, doc.get("nodeName", str, None, item, where),
            target, serving=doc.get("conditions.serving", bool, ready, item, where),
            terminating=doc.get("conditions.terminating", bool, False, item, where),
            zone=doc.get("zone", str, None, item, where),
            hostname=doc.get("hostname", str, None, item, where)))
    ports = []
    for where, item in doc.entries("ports"):
        number = doc.get("port", int, None, item, where)
        if number is None:
            doc.fail(f"{where}.port", "the lab needs the port's number")
        ports.append(EndpointPort(number, doc.get("protocol", str, "TCP", item, where),
                                  doc.get("name", str, None, item, where)))
    labels = doc.labels("metadata.labels")
    endpoint_slice = EndpointSlice(ObjectMeta(name, namespace, labels=labels),
                                   service_of(namespace, labels), endpoints, ports)
    try:
        validate_endpoint_slice(endpoint_slice, address_type, counts)
    except validation.ValidationError as error:
        raise ManifestError(f"{doc.where}: {error}") from None
    await cluster.add_endpoint_slice(endpoint_slice)


def _backend(doc: ManifestDoc, node: Any, at: str, ingress: str) -> IngressBackend:
    """validateIngressBackend's first rules: a Service backend, with a name and a port."""
    service = doc.get("service", dict, None, node, at)
    name = doc.get("service.name", str, None, node, at)
    port = doc.get("service.port.number", int, None, node, at) or doc.get(
        "service.port.name", str, None, node, at)
    if service is None:
        problem = validation.FieldError(at, "Invalid value", "",
                                        "resource or service backend is required")
    elif not name:
        problem = validation.FieldError(f"{at}.service.name", "Required value")
    elif port is None:
        problem = validation.FieldError(at, "Required value",
                                        detail="port name or number is required")
    else:
        return IngressBackend(name, port)
    raise ManifestError(f"{doc.where}: {validation.invalid('Ingress', ingress, [problem])}")


async def apply_ingress(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    rules = []
    for here, rule in doc.entries("spec.rules"):
        paths = []
        for where, item in doc.entries("http.paths", rule, here):
            paths.append(IngressPath(_backend(doc, item.get("backend"), f"{where}.backend",
                                              name),
                                     doc.get("path", str, "/", item, where),
                                     doc.get("pathType", str, None, item, where)))
        rules.append(IngressRule(paths, doc.get("host", str, None, rule, here)))
    default = doc.get("spec.defaultBackend", dict)
    await cluster.add_ingress(Ingress(
        ObjectMeta(name, namespace), rules,
        _backend(doc, default, "spec.defaultBackend", name) if default else None))


async def apply_ip_address_pool(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    addresses = _strings(doc, "spec.addresses")
    pool = IPAddressPool(ObjectMeta(name, namespace, labels=doc.labels("metadata.labels")),
                         addresses, doc.get("spec.autoAssign", bool, True),
                         doc.get("spec.avoidBuggyIPs", bool, False))
    await cluster.add_recipe_object(pool, validate_pool)


async def apply_l2_advertisement(cluster: Cluster, doc: ManifestDoc) -> None:
    name, namespace = _meta(doc, cluster)
    selectors = []
    for where, item in doc.entries("spec.nodeSelectors"):
        expressions = [LabelSelectorRequirement(
            doc.get("key", str, "", term, at), doc.get("operator", str, "", term, at),
            [str(v) for v in doc.get("values", list, [], term, at)])
            for at, term in doc.entries("matchExpressions", item, where)]
        selectors.append(NodeSelector(doc.labels("matchLabels", item), expressions))
    if doc.get("spec.ipAddressPoolSelectors", list):
        doc.fail("spec.ipAddressPoolSelectors", "the lab models ipAddressPools by name only")
    advertisement = L2Advertisement(
        ObjectMeta(name, namespace, labels=doc.labels("metadata.labels")),
        _strings(doc, "spec.ipAddressPools"), selectors, _strings(doc, "spec.interfaces"))
    await cluster.add_recipe_object(advertisement,
                                    lambda obj, _others: validate_advertisement(obj))
