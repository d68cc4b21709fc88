"""Gateway API objects (and ServiceAccounts) back to manifest documents, as `kubectl apply`
takes them; what the CRDs default is left out."""

from __future__ import annotations

from playground.cluster.gateway.objects import GROUP, V1, V1BETA1

KINDS = ("ServiceAccount", "Secret", "GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant")


def _meta(obj) -> dict:
    meta: dict = {"name": obj.name}
    if obj.metadata.namespace:
        meta["namespace"] = obj.metadata.namespace
    if obj.metadata.labels:
        meta["labels"] = dict(obj.metadata.labels)
    return meta


def _listener(lst) -> dict:
    entry: dict = {"name": lst.name, "protocol": lst.protocol, "port": lst.port}
    if lst.hostname:
        entry["hostname"] = lst.hostname
    allowed: dict = {}
    if lst.namespaces_from != "Same" or lst.namespace_selector:
        allowed["namespaces"] = {"from": lst.namespaces_from}
        if lst.namespace_selector:
            allowed["namespaces"]["selector"] = {"matchLabels": dict(lst.namespace_selector)}
    if lst.kinds:
        allowed["kinds"] = [{"kind": kind} for kind in lst.kinds]
    if allowed:
        entry["allowedRoutes"] = allowed
    if lst.tls_mode is not None:
        refs = [{"name": r.name, **({"namespace": r.namespace} if r.namespace else {}),
                 **({"kind": r.kind} if r.kind != "Secret" else {}),
                 **({"group": r.group} if r.group else {})} for r in lst.certificate_refs]
        entry["tls"] = {"mode": lst.tls_mode, "certificateRefs": refs}
    return entry


def _match(match) -> dict:
    entry: dict = {"path": {"type": match.path.type, "value": match.path.value}}
    for field, items in (("headers", match.headers), ("queryParams", match.query_params)):
        if items:
            entry[field] = [{"type": v.type, "name": v.name, "value": v.value} for v in items]
    if match.method:
        entry["method"] = match.method
    return entry


def _filter(found) -> dict:
    if found.type == "RequestHeaderModifier":
        body: dict = {}
        for field in ("set", "add"):
            if getattr(found, field):
                body[field] = [{"name": h.name, "value": h.value}
                               for h in getattr(found, field)]
        if found.remove:
            body["remove"] = list(found.remove)
        return {"type": found.type, "requestHeaderModifier": body}
    body = {}
    if found.type == "RequestRedirect":
        if found.scheme:
            body["scheme"] = found.scheme
        if found.port:
            body["port"] = found.port
        body["statusCode"] = found.status_code
    if found.hostname:
        body["hostname"] = found.hostname
    if found.path is not None:
        key = "replaceFullPath" if found.path.type == "ReplaceFullPath" else "replacePrefixMatch"
        body["path"] = {"type": found.path.type, key: found.path.value}
    field = "requestRedirect" if found.type == "RequestRedirect" else "urlRewrite"
    return {"type": found.type, field: body}


def _backend(ref) -> dict:
    entry: dict = {"name": ref.name}
    if ref.kind != "Service" or ref.group:
        entry.update(group=ref.group, kind=ref.kind)
    if ref.namespace:
        entry["namespace"] = ref.namespace
    if ref.port is not None:
        entry["port"] = ref.port
    if ref.weight != 1:
        entry["weight"] = ref.weight
    return entry


def _parent(ref) -> dict:
    entry: dict = {"name": ref.name}
    if ref.namespace:
        entry["namespace"] = ref.namespace
    if ref.section_name:
        entry["sectionName"] = ref.section_name
    if ref.port:
        entry["port"] = ref.port
    return entry


def document(obj) -> dict:
    if obj.kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": obj.kind, "metadata": _meta(obj)}
    if obj.kind == "Secret":
        return {"apiVersion": "v1", "kind": obj.kind, "metadata": _meta(obj),
                "type": obj.type, "data": dict(obj.data)}
    head = {"apiVersion": V1BETA1 if obj.kind == "ReferenceGrant" else V1, "kind": obj.kind,
            "metadata": _meta(obj)}
    if obj.kind == "GatewayClass":
        spec: dict = {"controllerName": obj.controller_name}
        if obj.description:
            spec["description"] = obj.description
    elif obj.kind == "Gateway":
        spec = {"gatewayClassName": obj.gateway_class_name,
                "listeners": [_listener(lst) for lst in obj.listeners]}
    elif obj.kind == "HTTPRoute":
        spec = {"parentRefs": [_parent(p) for p in obj.parent_refs]}
        if obj.hostnames:
            spec["hostnames"] = list(obj.hostnames)
        rules = []
        for rule in obj.rules:
            entry: dict = {"matches": [_match(m) for m in rule.matches]}
            if rule.name:
                entry["name"] = rule.name
            if rule.filters:
                entry["filters"] = [_filter(f) for f in rule.filters]
            if rule.backend_refs:
                entry["backendRefs"] = [_backend(b) for b in rule.backend_refs]
            rules.append(entry)
        spec["rules"] = rules
    else:
        spec = {"from": [{"group": s.group, "kind": s.kind, "namespace": s.namespace}
                         for s in obj.sources],
                "to": [{"group": t.group, "kind": t.kind, **({"name": t.name} if t.name else {})}
                       for t in obj.targets]}
    return {**head, "spec": spec}


NOTE = ("# The Gateways need Envoy Gateway: helm install eg oci://docker.io/envoyproxy/"
        "gateway-helm -n envoy-gateway-system --create-namespace (its CRDs include "
        f"{GROUP}'s)\n")
