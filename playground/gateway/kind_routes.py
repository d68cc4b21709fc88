"""The Envoy route table cloud-provider-kind v0.11.1 builds for one port of a Gateway
(pkg/gateway: gateway.go, httproute.go, routes.go), and what Envoy does with a request on
it: one virtual host per hostname the attached routes and their listeners have in common;
in each, the routes sorted as sortRoutes does (the catch-all last, Exact paths first, then
the longer path, more headers, more query parameters); the first route whose match takes
the request wins. Method matches are not translated, nor URLRewrite filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from playground.cluster.gateway import status
from playground.cluster.gateway.objects import Gateway, HTTPRoute, RouteMatch, RouteRule
from playground.cluster.gateway.routing import Request, describe_match


@dataclass
class EnvoyRoute:
    name: str         # NS-NAME-ruleR-matchM, as cloud-provider-kind names it
    route: HTTPRoute
    rule: int
    index: int        # the match's, within the rule
    match: RouteMatch
    error: str = ""   # a backend problem: Envoy answers 500 (DirectResponse)


@dataclass
class VirtualHost:
    domain: str
    routes: list[EnvoyRoute] = field(default_factory=list)


def backend_error(cluster, route: HTTPRoute, rule: RouteRule) -> tuple[str, str]:
    """buildHTTPRouteAction's (reason, message) for a rule's backends, ("", "") if fine."""
    namespace = route.metadata.namespace
    for ref in rule.backend_refs:
        target = ref.namespace or namespace
        if target != namespace and not status.granted(cluster, namespace, "Service", "",
                                                      target, ref.name):
            return "RefNotPermitted", "permission error"
        if cluster.api.peek("Service", target, ref.name) is None:
            return "BackendNotFound", "backend not found"
        if ref.kind != "Service":
            return "InvalidKind", f"unsupported backend kind: {ref.kind}"
    if not any(ref.weight for ref in rule.backend_refs):
        return "UnsupportedValue", "no valid backends provided with a weight > 0"
    return "", ""


def redirects(rule: RouteRule) -> bool:
    return any(f.type == "RequestRedirect" for f in rule.filters)


def envoy_routes(cluster, route: HTTPRoute) -> list[EnvoyRoute]:
    """translateHTTPRouteToEnvoyRoutes: one Envoy route per rule and match."""
    found = []
    for r, rule in enumerate(route.rules):
        error = "" if redirects(rule) else " ".join(backend_error(cluster, route, rule)).strip()
        for m, match in enumerate(rule.matches or [RouteMatch()]):
            found.append(EnvoyRoute(f"{route.metadata.namespace}-{route.name}-rule{r}-match{m}",
                                    route, r, m, match, error))
    return found


def _catch_all(match: RouteMatch) -> bool:
    return match.path.type == "PathPrefix" and match.path.value == "/" and \
        not match.headers and not match.query_params


def _order(entry: EnvoyRoute):
    match = entry.match
    value = match.path.value if match.path.type != "PathPrefix" or match.path.value == "/" \
        else match.path.value.rstrip("/")
    return (_catch_all(match), match.path.type != "Exact", -len(value), -len(match.headers),
            -len(match.query_params))


def virtual_hosts(cluster, gw: Gateway, port: int) -> dict[str, VirtualHost]:
    """The port's route configuration: each programmed HTTP listener's attached routes,
    under the hostnames listener and route share."""
    hosts: dict[str, VirtualHost] = {}
    for listener in gw.listeners:
        if listener.port != port or listener.protocol not in ("HTTP", "HTTPS") or \
                not status.listener_ready(cluster, gw, listener):
            continue
        for route in cluster.api.list("HTTPRoute"):
            if not any(p.gateway.key == gw.key and listener.name in p.listeners
                       for p in status.parents(cluster, route)):
                continue
            routes = envoy_routes(cluster, route)
            for domain in status.hostnames_meet(listener.hostname, route.hostnames):
                hosts.setdefault(domain, VirtualHost(domain)).routes.extend(routes)
    for host in hosts.values():
        host.routes.sort(key=_order)   # sort.Slice: equal entries keep the lab's list order
    return hosts


def pick_host(hosts: dict[str, VirtualHost], host: str) -> VirtualHost | None:
    """Envoy's virtual host by Host (its port ignored): the exact domain, else the longest
    wildcard suffix, else "*"."""
    name = host.rsplit(":", 1)[0].lower()
    if name in hosts:
        return hosts[name]
    wild = [d for d in hosts if d.startswith("*.") and name.endswith(d[1:]) and
            len(name) > len(d) - 1]
    if wild:
        return hosts[max(wild, key=len)]
    return hosts.get("*")


def _value_matches(kind: str, wanted: str, given: str | None) -> bool:
    if given is None:
        return False
    return re.fullmatch(wanted, given) is not None if kind == "RegularExpression" \
        else given == wanted


def takes(match: RouteMatch, request: Request) -> bool:
    """Envoy's RouteMatch as translated: the path (without its query), headers and query
    parameters; the method is not part of it."""
    path = request.path
    wanted = match.path.value
    if match.path.type == "Exact":
        ok = path == wanted
    elif match.path.type == "RegularExpression":
        ok = re.fullmatch(wanted, path) is not None
    elif wanted == "/":
        ok = path.startswith("/")
    else:
        prefix = wanted.rstrip("/")   # path_separated_prefix
        ok = path == prefix or path.startswith(prefix + "/")
    headers = {k.lower(): v for k, v in request.headers}
    query = dict(request.query)
    return ok and all(_value_matches(h.type, h.value, headers.get(h.name.lower()))
                      for h in match.headers) and \
        all(query.get(q.name) == q.value for q in match.query_params)


def first_route(host: VirtualHost, request: Request) -> EnvoyRoute | None:
    return next((entry for entry in host.routes if takes(entry.match, request)), None)


def explain(entry: EnvoyRoute, request: Request) -> str:
    """The route, rule and match chosen, and what cloud-provider-kind left out of it."""
    rule = entry.route.rules[entry.rule]
    why = f"httproute {entry.route.key} rule {entry.rule}" + \
        (f" ({rule.name})" if rule.name else "") + f" match {entry.index}: " + \
        f"{describe_match(replace(entry.match, method=None))} (Envoy route {entry.name})"
    if entry.match.method and entry.match.method != request.method:
        why += f"; its method {entry.match.method} is not translated, so {request.method} " \
               "is taken too"
    if any(f.type == "URLRewrite" for f in rule.filters):
        why += "; its URLRewrite is not translated: the request goes on as it came"
    return why


def filtered(rule: RouteRule, request: Request) -> Request:
    """RequestHeadersToAdd (set overwrites, add appends) and RequestHeadersToRemove."""
    headers = list(request.headers)
    for found in rule.filters:
        if found.type != "RequestHeaderModifier":
            continue
        for header in found.set:
            headers = [(k, v) for k, v in headers if k.lower() != header.name.lower()]
            headers.append((header.name, header.value))
        headers += [(h.name, h.value) for h in found.add]
        gone = {name.lower() for name in found.remove}
        headers = [(k, v) for k, v in headers if k.lower() not in gone]
    return replace(request, headers=tuple(headers))


def redirect_of(rule: RouteRule, request: Request) -> tuple[int, str] | None:
    """Envoy's RedirectAction as translated: the hostname and status code only (scheme,
    path and port stay the request's)."""
    found = next((f for f in rule.filters if f.type == "RequestRedirect"), None)
    if found is None:
        return None
    code = found.status_code if found.status_code in (301, 302, 303, 307, 308) else 301
    query = "&".join(f"{k}={v}" for k, v in request.query)
    return code, f"http://{found.hostname or request.host}{request.path}" + \
        (f"?{query}" if query else "")
