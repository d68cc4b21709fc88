"""Ingress (networking.k8s.io/v1) and an nginx-like controller that proxies by host and path.

The controller is an ordinary Deployment behind a LoadBalancer Service. A request that
reaches it ends there (its own TCP connection), and the controller opens a second
connection to the chosen backend Service: two traces, both computed by the dataplane.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster import validation
from playground.cluster.objects import Named, ObjectMeta

CONTROLLER_NAMESPACE = "ingress-nginx"
CONTROLLER_NAME = "ingress-nginx-controller"
CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx"}


@dataclass
class IngressBackend:
    service: str
    port: int | str


@dataclass
class IngressPath:
    backend: IngressBackend
    path: str = "/"
    path_type: str = "Prefix"


@dataclass
class IngressRule:
    paths: list[IngressPath]
    host: str | None = None


@dataclass
class Ingress(Named):
    metadata: ObjectMeta
    rules: list[IngressRule] = field(default_factory=list)
    default_backend: IngressBackend | None = None
    kind: str = "Ingress"


@dataclass(frozen=True)
class Route:
    ingress: Ingress
    backend: IngressBackend
    why: str


def validate_ingress(ingress: Ingress) -> None:
    meta = ingress.metadata
    validation.check("Ingress", ingress.name, validation.meta_errors(
        "Ingress", ingress.name, meta.namespace, meta.labels, meta.annotations)
        + validation.ingress_spec_errors(ingress.rules, ingress.default_backend))


def backends_of(ingress: Ingress) -> list[IngressBackend]:
    found = [path.backend for rule in ingress.rules for path in rule.paths]
    return found + ([ingress.default_backend] if ingress.default_backend else [])


def is_controller(pod) -> bool:
    return all(pod.metadata.labels.get(k) == v for k, v in CONTROLLER_LABELS.items())


def _host_matches(pattern: str | None, host: str) -> bool:
    if pattern is None:
        return True
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def _path_matches(rule_path: IngressPath, path: str) -> bool:
    if rule_path.path_type == "Exact":
        return path == rule_path.path
    wanted = [p for p in rule_path.path.split("/") if p]
    given = [p for p in path.split("/") if p]
    return given[:len(wanted)] == wanted  # Prefix matches whole path elements


def choose(ingresses: list[Ingress], host: str, path: str) -> Route | None:
    """The rule the controller uses: exact host before wildcard before any host, then the
    longest matching path, Exact before Prefix; else a default backend."""
    candidates = []
    for ingress in ingresses:
        for rule in ingress.rules:
            if not _host_matches(rule.host, host):
                continue
            host_rank = 0 if rule.host == host else 1 if rule.host else 2
            for rule_path in rule.paths:
                if _path_matches(rule_path, path):
                    exact = 0 if rule_path.path_type == "Exact" else 1
                    rank = (host_rank, -len(rule_path.path), exact, ingress.key)
                    shown = rule.host or "*"
                    why = (f"ingress {ingress.key}: host {shown}, {rule_path.path_type} path "
                           f"{rule_path.path}")
                    candidates.append((rank, Route(ingress, rule_path.backend, why)))
    if candidates:
        return min(candidates, key=lambda c: c[0])[1]
    for ingress in sorted(ingresses, key=lambda i: i.key):
        if ingress.default_backend is not None:
            return Route(ingress, ingress.default_backend,
                         f"ingress {ingress.key}: default backend")
    return None
