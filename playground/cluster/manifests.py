"""Kubernetes YAML manifests applied to a lab: Namespace, Pod, Deployment, Service.

Every problem is reported as `FILE: document N (Kind/name): what is wrong`. All the files
given are read and checked whole before anything is applied, then applied whole
(manifest_plan says how): the first problem stops, and the lab is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playground.cluster import validation
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.kube_yaml import YamlError, load_all
from playground.cluster.manifest_plan import Plan
from playground.cluster.objects import Container, ContainerPort, ObjectMeta, Toleration
from playground.cluster.service import ServicePort
from playground.limits import MAX_MANIFEST_BYTES, LimitError, read_bounded

SUPPORTED = ("Namespace", "Pod", "Deployment", "Service", "Ingress")


class ManifestError(ClusterError):
    pass


class _Doc:
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


def load_documents(path: str) -> list[tuple[str, dict]]:
    try:
        if Path(path).is_dir():
            raise ManifestError(f"{path}: a folder, not a manifest")
        text = read_bounded(path, MAX_MANIFEST_BYTES, "manifest").decode("utf-8")
    except LimitError as error:
        raise ManifestError(str(error)) from None
    except OSError as error:
        raise ManifestError(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        documents = load_all(text)
    except YamlError as error:
        raise ManifestError(f"{path}: not valid YAML: {error}") from None
    found = []
    for index, data in enumerate(documents, start=1):
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: document {index}: expected a Kubernetes object")
        kind = data.get("kind")
        name = (data.get("metadata") or {}).get("name") if isinstance(
            data.get("metadata"), dict) else None
        found.append((f"{path}: document {index} ({kind}/{name})", data))
    return found


async def apply_files(cluster: Cluster, paths: list[str]) -> None:
    """Every document of every file checked, then all applied, or nothing and one line."""
    if not paths:
        return
    documents = [document for path in paths for document in load_documents(path)]
    for where, data in documents:
        problem = validation.type_errors(data.get("apiVersion"), data.get("kind"), SUPPORTED)
        if problem is not None:
            raise ManifestError(f"{where}: {problem}")
    plan = Plan(cluster)
    for where, data in sorted(documents, key=lambda d: d[1]["kind"] != "Namespace"):
        plan.where = where
        try:
            await APPLY[data["kind"]](plan, _Doc(where, data))
        except ManifestError:
            raise
        except ClusterError as error:
            raise ManifestError(str(error)) from None
    what = ", ".join(paths)
    try:
        plan.check_room(what)
        await plan.apply(what)
    except ClusterError as error:
        raise ManifestError(str(error)) from None


def _meta(doc: _Doc) -> tuple[str, str]:
    name = doc.get("metadata.name", str)
    if not name:
        doc.fail("metadata.name", "is required")
    return name, doc.get("metadata.namespace", str, "default")


def _containers(doc: _Doc, path: str, node: Any = None) -> list[Container]:
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
                                       doc.get("protocol", str, "TCP", port, where)))
        name = doc.get("name", str, None, item, here)
        if name is None:
            doc.fail(f"{here}.name", "is required")
        containers.append(Container(name, doc.get("image", str, "busybox", item, here), ports))
    return containers


async def _namespace(cluster: Cluster, doc: _Doc) -> None:
    name, _ = _meta(doc)
    await cluster.add_namespace(name)


async def _pod(cluster: Cluster, doc: _Doc) -> None:
    name, namespace = _meta(doc)
    tolerations = [Toleration(doc.get("key", str, "", t), doc.get("operator", str, "Exists", t),
                              doc.get("effect", str, "", t))
                   for t in doc.get("spec.tolerations", list, [])]
    await cluster.add_pod(name, _containers(doc, "spec.containers"), namespace=namespace,
                          labels=doc.labels("metadata.labels"),
                          annotations=doc.labels("metadata.annotations"),
                          node_name=doc.get("spec.nodeName", str), tolerations=tolerations)


async def _deployment(cluster: Cluster, doc: _Doc) -> None:
    name, namespace = _meta(doc)
    selector = doc.labels("spec.selector.matchLabels")
    labels = doc.labels("spec.template.metadata.labels")
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        doc.fail("spec.template.metadata.labels", "must match spec.selector.matchLabels")
    await cluster.add_deployment(name, _containers(doc, "spec.template.spec.containers"),
                                 replicas=doc.get("spec.replicas", int, 1),
                                 labels=labels or None, namespace=namespace)


async def _service(cluster: Cluster, doc: _Doc) -> None:
    name, namespace = _meta(doc)
    ports = []
    for where, port in doc.entries("spec.ports"):
        number = doc.get("port", int, None, port, where)
        if number is None:
            doc.fail(f"{where}.port", "is required")
        ports.append(ServicePort(number, doc.get("targetPort", (int, str), None, port, where),
                                 doc.get("protocol", str, "TCP", port, where),
                                 doc.get("name", str, None, port, where),
                                 doc.get("nodePort", int, None, port, where)))
    kind = doc.get("spec.type", str, "ClusterIP")
    try:  # given at all on a ClusterIP Service is refused; the model defaults it to Cluster
        validation.check("Service", name, validation.policy_errors(
            kind, doc.get("spec.externalTrafficPolicy", str)))
    except validation.ValidationError as error:
        raise ManifestError(f"{doc.where}: {error}") from None
    await cluster.add_service(
        name, ports, namespace=namespace, selector=doc.labels("spec.selector"),
        type=kind, cluster_ip=doc.get("spec.clusterIP", str),
        load_balancer_ip=doc.get("spec.loadBalancerIP", str),
        session_affinity=doc.get("spec.sessionAffinity", str, "None"),
        external_traffic_policy=doc.get("spec.externalTrafficPolicy", str, "Cluster"),
        internal_traffic_policy=doc.get("spec.internalTrafficPolicy", str, "Cluster"),
        load_balancer_source_ranges=[str(r) for r in doc.get(
            "spec.loadBalancerSourceRanges", list, [])])


def _backend(doc: _Doc, node: Any, at: str) -> IngressBackend:
    name = doc.get("service.name", str, None, node, at)
    port = doc.get("service.port.number", int, None, node, at) or doc.get(
        "service.port.name", str, None, node, at)
    if name is None or port is None:
        doc.fail(f"{at}.service", "needs name and port.number or port.name")
    return IngressBackend(name, port)


async def _ingress(cluster: Cluster, doc: _Doc) -> None:
    name, namespace = _meta(doc)
    rules = []
    for here, rule in doc.entries("spec.rules"):
        paths = []
        for where, item in doc.entries("http.paths", rule, here):
            paths.append(IngressPath(_backend(doc, item.get("backend"), f"{where}.backend"),
                                     doc.get("path", str, "/", item, where),
                                     doc.get("pathType", str, "Prefix", item, where)))
        rules.append(IngressRule(paths, doc.get("host", str, None, rule, here)))
    default = doc.get("spec.defaultBackend", dict)
    await cluster.add_ingress(Ingress(
        ObjectMeta(name, namespace), rules,
        _backend(doc, default, "spec.defaultBackend") if default else None))


APPLY = {"Namespace": _namespace, "Pod": _pod, "Deployment": _deployment, "Service": _service,
         "Ingress": _ingress}
