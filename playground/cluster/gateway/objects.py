"""The Gateway API kinds the lab serves, with the fields it models (names as in the CRDs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.objects import Named, ObjectMeta

GROUP = "gateway.networking.k8s.io"
V1 = f"{GROUP}/v1"
V1BETA1 = f"{GROUP}/v1beta1"


@dataclass
class GatewayClass(Named):
    metadata: ObjectMeta
    controller_name: str = ""
    description: str = ""
    kind: str = "GatewayClass"


@dataclass
class CertificateRef:
    """A listener's tls.certificateRefs entry (a Secret, unless said otherwise)."""

    name: str
    namespace: str | None = None
    kind: str = "Secret"
    group: str = ""


@dataclass
class Listener:
    name: str
    port: int
    protocol: str
    hostname: str | None = None
    namespaces_from: str = "Same"   # allowedRoutes.namespaces.from
    namespace_selector: dict[str, str] = field(default_factory=dict)  # its matchLabels
    kinds: list[str] = field(default_factory=list)   # allowedRoutes.kinds (group is ours)
    tls_mode: str | None = None   # tls.mode (Terminate by default); None: no tls given
    certificate_refs: list[CertificateRef] = field(default_factory=list)


@dataclass
class Gateway(Named):
    metadata: ObjectMeta
    gateway_class_name: str = ""
    listeners: list[Listener] = field(default_factory=list)
    kind: str = "Gateway"


@dataclass
class ParentRef:
    name: str
    namespace: str | None = None
    section_name: str | None = None
    port: int | None = None
    kind: str = "Gateway"
    group: str = GROUP


@dataclass
class PathMatch:
    type: str = "PathPrefix"
    value: str = "/"


@dataclass
class ValueMatch:
    """A header or query parameter match."""

    name: str
    value: str
    type: str = "Exact"


@dataclass
class RouteMatch:
    path: PathMatch = field(default_factory=PathMatch)
    headers: list[ValueMatch] = field(default_factory=list)
    query_params: list[ValueMatch] = field(default_factory=list)
    method: str | None = None


@dataclass
class Header:
    name: str
    value: str


@dataclass
class PathModifier:
    type: str   # ReplaceFullPath or ReplacePrefixMatch
    value: str


@dataclass
class RouteFilter:
    type: str
    set: list[Header] = field(default_factory=list)      # RequestHeaderModifier
    add: list[Header] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    scheme: str | None = None                            # RequestRedirect
    hostname: str | None = None                          # RequestRedirect, URLRewrite
    path: PathModifier | None = None
    port: int | None = None
    status_code: int = 302


@dataclass
class BackendRef:
    name: str
    port: int | None = None
    namespace: str | None = None
    weight: int = 1
    kind: str = "Service"
    group: str = ""


@dataclass
class RouteRule:
    matches: list[RouteMatch] = field(default_factory=lambda: [RouteMatch()])
    filters: list[RouteFilter] = field(default_factory=list)
    backend_refs: list[BackendRef] = field(default_factory=list)
    name: str | None = None


@dataclass
class HTTPRoute(Named):
    metadata: ObjectMeta
    parent_refs: list[ParentRef] = field(default_factory=list)
    hostnames: list[str] = field(default_factory=list)
    rules: list[RouteRule] = field(default_factory=lambda: [RouteRule()])
    kind: str = "HTTPRoute"


@dataclass
class GrantFrom:
    namespace: str
    kind: str = "HTTPRoute"
    group: str = GROUP


@dataclass
class GrantTo:
    kind: str = "Service"
    group: str = ""
    name: str | None = None


@dataclass
class ReferenceGrant(Named):
    metadata: ObjectMeta
    sources: list[GrantFrom] = field(default_factory=list)   # spec.from
    targets: list[GrantTo] = field(default_factory=list)     # spec.to
    kind: str = "ReferenceGrant"
