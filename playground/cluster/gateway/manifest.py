"""Gateway API manifest documents to lab objects; every problem names the document and the
field, defaults as the CRDs default them."""

from __future__ import annotations

import base64
from typing import Any

from playground.cluster import secret
from playground.cluster.gateway.objects import (
    GROUP,
    BackendRef,
    CertificateRef,
    Gateway,
    GatewayClass,
    GrantFrom,
    GrantTo,
    Header,
    HTTPRoute,
    Listener,
    ParentRef,
    PathMatch,
    PathModifier,
    ReferenceGrant,
    RouteFilter,
    RouteMatch,
    RouteRule,
    ValueMatch,
)
from playground.cluster.manifest_apply import _meta as name_of
from playground.cluster.objects import ObjectMeta
from playground.cluster.secret import Secret
from playground.cluster.service_account import ServiceAccount


def _meta(doc, cluster, namespaced: bool = True) -> ObjectMeta:
    name, namespace = name_of(doc, cluster)
    return ObjectMeta(name, namespace if namespaced else "", labels=doc.labels("metadata.labels"),
                      annotations=doc.labels("metadata.annotations"))


async def apply_gateway_class(cluster, doc) -> None:
    await cluster.add_api_object(GatewayClass(
        _meta(doc, cluster, namespaced=False), doc.get("spec.controllerName", str, ""),
        doc.get("spec.description", str, "")))


def _listener(doc, item: dict, at: str) -> Listener:
    kinds = [doc.get("kind", str, "", kind, where)
             for where, kind in doc.entries("allowedRoutes.kinds", item, at)]
    tls = doc.get("tls", dict, None, item, at)
    refs = [CertificateRef(doc.get("name", str, "", ref, where),
                           doc.get("namespace", str, None, ref, where),
                           doc.get("kind", str, "Secret", ref, where),
                           doc.get("group", str, "", ref, where))
            for where, ref in doc.entries("tls.certificateRefs", item, at)]
    return Listener(doc.get("name", str, "", item, at), doc.get("port", int, 0, item, at),
                    doc.get("protocol", str, "", item, at),
                    doc.get("hostname", str, None, item, at),
                    doc.get("allowedRoutes.namespaces.from", str, "Same", item, at),
                    _selector(doc, item, at), kinds,
                    None if tls is None else doc.get("tls.mode", str, "Terminate", item, at),
                    refs)


def _selector(doc, item: dict, at: str) -> dict[str, str]:
    found = doc.get("allowedRoutes.namespaces.selector.matchLabels", dict, {}, item, at)
    return {str(k): str(v) for k, v in found.items()}


async def apply_gateway(cluster, doc) -> None:
    listeners = [_listener(doc, item, at) for at, item in doc.entries("spec.listeners")]
    await cluster.add_api_object(Gateway(_meta(doc, cluster),
                                         doc.get("spec.gatewayClassName", str, ""), listeners))


def _values(doc, field: str, item: dict, at: str) -> list[ValueMatch]:
    return [ValueMatch(doc.get("name", str, "", v, where), doc.get("value", str, "", v, where),
                       doc.get("type", str, "Exact", v, where))
            for where, v in doc.entries(field, item, at)]


def _match(doc, item: dict, at: str) -> RouteMatch:
    path = PathMatch(doc.get("path.type", str, "PathPrefix", item, at),
                     doc.get("path.value", str, "/", item, at))
    return RouteMatch(path, _values(doc, "headers", item, at),
                      _values(doc, "queryParams", item, at),
                      doc.get("method", str, None, item, at))


def _headers(doc, field: str, item: Any, at: str) -> list[Header]:
    return [Header(doc.get("name", str, "", h, where), doc.get("value", str, "", h, where))
            for where, h in doc.entries(field, item, at)]


def _modifier(doc, item: Any, at: str) -> PathModifier | None:
    kind = doc.get("path.type", str, None, item, at)
    if kind is None:
        return None
    value = doc.get("path.replaceFullPath", str, None, item, at) if kind == "ReplaceFullPath" \
        else doc.get("path.replacePrefixMatch", str, None, item, at)
    if value is None:
        field = "replaceFullPath" if kind == "ReplaceFullPath" else "replacePrefixMatch"
        doc.fail(f"{at}.path", f'Invalid value: "object": {field} must be specified when type '
                               f"is set to '{kind}'")
    return PathModifier(kind, value)


def _filter(doc, item: dict, at: str) -> RouteFilter:
    kind = doc.get("type", str, "", item, at)
    fields = {"RequestHeaderModifier": "requestHeaderModifier",
              "RequestRedirect": "requestRedirect", "URLRewrite": "urlRewrite"}
    for name, field in fields.items():   # CEL: the filter's field is set for its type only
        present = item.get(field) is not None
        if present and kind != name:
            doc.fail(at, f'Invalid value: "object": filter.{field} must be nil if the '
                         f"filter.type is not {name}")
        if not present and kind == name:
            doc.fail(at, f'Invalid value: "object": filter.{field} must be specified for '
                         f"{name} filter.type")
    if kind == "RequestHeaderModifier":
        here = f"{at}.requestHeaderModifier"
        body = item["requestHeaderModifier"]
        return RouteFilter(kind, _headers(doc, "set", body, here), _headers(doc, "add", body, here),
                           [str(x) for x in doc.get("remove", list, [], body, here)])
    if kind in ("RequestRedirect", "URLRewrite"):
        here = f"{at}.{fields[kind]}"
        body = item[fields[kind]]
        return RouteFilter(kind, scheme=doc.get("scheme", str, None, body, here),
                           hostname=doc.get("hostname", str, None, body, here),
                           path=_modifier(doc, body, here),
                           port=doc.get("port", int, None, body, here),
                           status_code=doc.get("statusCode", int, 302, body, here))
    return RouteFilter(kind)


def _rule(doc, item: dict, at: str) -> RouteRule:
    matches = [_match(doc, m, where) for where, m in doc.entries("matches", item, at)]
    backends = [BackendRef(doc.get("name", str, "", b, where), doc.get("port", int, None, b, where),
                           doc.get("namespace", str, None, b, where),
                           doc.get("weight", int, 1, b, where),
                           doc.get("kind", str, "Service", b, where),
                           doc.get("group", str, "", b, where))
                for where, b in doc.entries("backendRefs", item, at)]
    return RouteRule(matches or [RouteMatch()],
                     [_filter(doc, f, where) for where, f in doc.entries("filters", item, at)],
                     backends, doc.get("name", str, None, item, at))


async def apply_http_route(cluster, doc) -> None:
    parents = [ParentRef(doc.get("name", str, "", p, at), doc.get("namespace", str, None, p, at),
                         doc.get("sectionName", str, None, p, at),
                         doc.get("port", int, None, p, at),
                         doc.get("kind", str, "Gateway", p, at),
                         doc.get("group", str, GROUP, p, at))
               for at, p in doc.entries("spec.parentRefs")]
    hostnames = [str(h) for h in doc.get("spec.hostnames", list, [])]
    rules = [_rule(doc, item, at) for at, item in doc.entries("spec.rules")]
    await cluster.add_api_object(HTTPRoute(_meta(doc, cluster), parents, hostnames,
                                           rules or [RouteRule()]))


async def apply_reference_grant(cluster, doc) -> None:
    sources = [GrantFrom(doc.get("namespace", str, "", f, at), doc.get("kind", str, "", f, at),
                         doc.get("group", str, "", f, at))
               for at, f in doc.entries("spec.from")]
    targets = [GrantTo(doc.get("kind", str, "", t, at), doc.get("group", str, "", t, at),
                       doc.get("name", str, None, t, at))
               for at, t in doc.entries("spec.to")]
    await cluster.add_api_object(ReferenceGrant(_meta(doc, cluster), sources, targets))


async def apply_service_account(cluster, doc) -> None:
    await cluster.add_api_object(ServiceAccount(_meta(doc, cluster)))


async def apply_secret(cluster, doc) -> None:
    """data as given (base64), stringData encoded into it, as the API server stores it."""
    data = {str(k): str(v) for k, v in doc.get("data", dict, {}).items()}
    for key, text in data.items():
        secret.decoded(key, text)
    for key, text in doc.get("stringData", dict, {}).items():
        data[str(key)] = base64.b64encode(str(text).encode()).decode()
    await cluster.add_api_object(Secret(_meta(doc, cluster), doc.get("type", str, "Opaque"),
                                        data))
