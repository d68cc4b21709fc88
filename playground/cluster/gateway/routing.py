"""What the Gateway's proxy does with one HTTP request, as the spec orders it: the listener
by port and most specific hostname, the routes attached there by most specific hostname,
then across them the match of highest precedence (Exact path, longest prefix, method, most
headers, most query params, oldest route, namespace/name, rule and match order); the rule's
filters; a weighted draw among its backends from the lab's random source; and an endpoint
of the Service drawn (Envoy sends to endpoints, not to the cluster IP)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from playground.cluster.errors import ClusterError
from playground.cluster.gateway import status
from playground.cluster.gateway.objects import BackendRef, Gateway, HTTPRoute, RouteMatch
from playground.cluster.service import slices_of


@dataclass(frozen=True)
class Request:
    host: str
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()


def request_of(asked) -> Request:
    """The HTTP request a trace asks for (playground.cluster.legs.TraceRequest): its path
    split from the query string, whose parameters are decoded as a proxy reads them."""
    path, _, query = asked.path.partition("?")
    return Request(asked.host, path or "/", asked.method, tuple(asked.headers),
                   tuple(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True)
class Decision:
    code: int        # 0: forwarded; else the status the proxy answers with
    why: str         # the route, rule and match, or why none
    request: Request   # as the filters left it
    draw: str = ""   # the weight draw
    backend: str = ""  # NAMESPACE/NAME:PORT of the Service drawn
    endpoint: tuple[str, int] | None = None   # the address and port the proxy connects to
    location: str = ""   # a redirect's Location


def _host_rank(pattern: str | None, host: str):
    """Lower is more specific: an exact name, then the longest wildcard, then any host."""
    if pattern in (None, "*"):
        return (2, 0)
    if pattern.startswith("*."):
        return (1, -len(pattern)) if status.host_matches(pattern, host) else None
    return (0, 0) if pattern == host else None


def _best(ranked):
    """The entries sharing the best rank (ranked: (rank or None, entry))."""
    found = [(rank, entry) for rank, entry in ranked if rank is not None]
    if not found:
        return []
    top = min(rank for rank, _ in found)
    return [entry for rank, entry in found if rank == top]


def _path_matches(match: RouteMatch, path: str) -> bool:
    wanted = match.path.value
    if match.path.type == "Exact":
        return path == wanted
    if match.path.type != "PathPrefix":
        return False
    trimmed = wanted.rstrip("/")   # a prefix matches whole path elements
    return not trimmed or path == trimmed or path.startswith(trimmed + "/")


def matches(match: RouteMatch, request: Request) -> bool:
    headers = {k.lower(): v for k, v in request.headers}
    query = dict(request.query)
    return (_path_matches(match, request.path)
            and (match.method is None or match.method == request.method)
            and all(headers.get(h.name.lower()) == h.value for h in match.headers)
            and all(query.get(q.name) == q.value for q in match.query_params))


def precedence(route: HTTPRoute, rule: int, index: int, match: RouteMatch):
    """The spec's order, lowest first."""
    exact = match.path.type == "Exact"
    return (0 if exact else 1, 0 if exact else -len(match.path.value),
            0 if match.method else 1, -len(match.headers), -len(match.query_params),
            route.metadata.created_at, route.key, rule, index)


def describe_match(match: RouteMatch) -> str:
    parts = [f"{match.path.type} {match.path.value}"]
    if match.method:
        parts.append(f"method {match.method}")
    parts += [f"header {h.name}: {h.value}" for h in match.headers]
    parts += [f"query {q.name}={q.value}" for q in match.query_params]
    return ", ".join(parts)


def terminated(gw: Gateway, listener, sni: str) -> str:
    """What the TLS termination at the Envoy says: the SNI, the listener, its certificate."""
    refs = ", ".join(f"{r.namespace or gw.metadata.namespace}/{r.name}"
                     for r in listener.certificate_refs)
    return f"TLS terminated at the Envoy: SNI {sni or '(none)'} picks listener " \
           f"{listener.name}, certificate {refs}"


def sni_listener(cluster, gw: Gateway, port: int, sni: str):
    """The HTTPS listener whose filter chain the ClientHello's server name picks: the exact
    hostname, the longest wildcard, one without hostname; none: Envoy ends the handshake."""
    listeners = [lst for lst in gw.listeners if lst.port == port and lst.protocol == "HTTPS"
                 and status.listener_ready(cluster, gw, lst)]
    chosen = _best((_host_rank(lst.hostname, sni), lst) for lst in listeners)
    if not chosen:
        shown = ", ".join(lst.hostname or "*" for lst in listeners) or "none"
        raise ClusterError(f"gateway {gw.key}'s Envoy closes the connection: no filter chain "
                           f"on port {port} matches SNI {sni or '(none)'} (server names: "
                           f"{shown})")
    return chosen[0]


def decide(cluster, gw: Gateway, port: int, request: Request, rng: random.Random) -> Decision:
    if any(lst.port == port and lst.protocol == "HTTPS" for lst in gw.listeners):
        listener = sni_listener(cluster, gw, port, request.host)   # curl's SNI is the host
        decision = _routed(cluster, gw, listener, request, rng)
        return replace(decision, why=f"{terminated(gw, listener, request.host)}; "
                                     f"{decision.why}")
    listeners = [lst for lst in gw.listeners if lst.port == port and lst.protocol == "HTTP"
                 and status.listener_ready(cluster, gw, lst)]
    chosen = _best((_host_rank(lst.hostname, request.host), lst) for lst in listeners)
    if not chosen:
        return Decision(404, f"no listener of gateway {gw.key} on port {port} takes host "
                             f"{request.host or '(none)'}", request)
    return _routed(cluster, gw, chosen[0], request, rng)


def _routed(cluster, gw: Gateway, listener, request: Request, rng: random.Random) -> Decision:
    """The routes attached to the listener, the match of highest precedence, its filters
    and backend."""
    attached = []
    for route in cluster.api.list("HTTPRoute"):
        for parent in status.parents(cluster, route):
            if parent.gateway.key == gw.key and listener.name in parent.listeners:
                names = status.hostnames_meet(listener.hostname, route.hostnames)
                rank = min((r for r in (_host_rank(n, request.host) for n in names)
                            if r is not None), default=None)
                attached.append((rank, route))
                break
    routes = _best(attached)
    candidates = [(precedence(route, r, m, match), route, r, m, match)
                  for route in routes for r, rule in enumerate(route.rules)
                  for m, match in enumerate(rule.matches) if matches(match, request)]
    if not candidates:
        return Decision(404, f"listener {listener.name}: no HTTPRoute rule matches host "
                             f"{request.host or '(none)'} path {request.path}", request)
    _, route, r, m, match = min(candidates, key=lambda c: c[0])
    rule = route.rules[r]
    why = f"httproute {route.key} rule {r}{f' ({rule.name})' if rule.name else ''} match " \
          f"{m}: {describe_match(match)}"
    request, redirect = _filtered(rule, match, request)
    if redirect is not None:
        code, location = redirect
        return Decision(code, f"{why}; RequestRedirect to {location}", request,
                        location=location)
    return _draw(cluster, route, rule.backend_refs, why, request, rng)


def _filtered(rule, match: RouteMatch, request: Request):
    """The request after the rule's filters, and a redirect's (code, Location) if any."""
    for found in rule.filters:
        if found.type == "RequestHeaderModifier":
            headers = dict(request.headers)
            for header in found.set + found.add:
                headers[header.name] = header.value
            for name in found.remove:
                headers.pop(name, None)
            request = replace(request, headers=tuple(headers.items()))
        elif found.type in ("URLRewrite", "RequestRedirect"):
            path = _new_path(found.path, match, request.path)
            if found.type == "RequestRedirect":
                scheme = found.scheme or "http"
                host = found.hostname or request.host
                port = f":{found.port}" if found.port else ""
                return request, (found.status_code, f"{scheme}://{host}{port}{path}")
            request = replace(request, host=found.hostname or request.host, path=path)
    return request, None


def _new_path(modifier, match: RouteMatch, path: str) -> str:
    if modifier is None:
        return path
    if modifier.type == "ReplaceFullPath":
        return modifier.value
    rest = path[len(match.path.value.rstrip("/")):]   # what followed the matched prefix
    new = modifier.value.rstrip("/")
    return (new + rest) if rest.startswith("/") else (new + "/" + rest if rest else
                                                       new or "/")


def _draw(cluster, route: HTTPRoute, refs: list[BackendRef], why: str, request: Request,
          rng: random.Random) -> Decision:
    total = sum(ref.weight for ref in refs)
    if total == 0:
        return Decision(500, f"{why}; no backend with a weight above 0", request)
    drawn = rng.randrange(total)
    upto = 0
    for ref in refs:
        upto += ref.weight
        if drawn < upto:
            break
    namespace = ref.namespace or route.metadata.namespace
    shown = ", ".join(f"{r.name} {r.weight}" for r in refs)
    draw = f"weights {shown}: drew {drawn} of {total} -> {ref.name}"
    backend = f"{namespace}/{ref.name}:{ref.port}"
    resolved = status.backend_problem(cluster, route, ref)
    if resolved:
        return Decision(500, f"{why}; {resolved}", request, draw, backend)
    service = cluster.api.peek("Service", namespace, ref.name)
    port = next(p for p in service.spec.ports if p.port == ref.port)
    ready = []
    for found in slices_of(cluster.api, namespace, ref.name):
        number = next((p.port for p in found.ports if p.name == port.name), None)
        if number is not None:
            ready += [(e.address, number) for e in found.endpoints if e.ready]
    if not ready:
        return Decision(503, f"{why}; service {namespace}/{ref.name} has no ready endpoint",
                        request, draw, backend)
    endpoint = sorted(ready)[rng.randrange(len(ready))]
    return Decision(0, why, request, f"{draw}; endpoint {endpoint[0]}:{endpoint[1]} of "
                                     f"{len(ready)}", backend, endpoint)
