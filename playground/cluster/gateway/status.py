"""The status a Gateway controller writes, worked out from what the API server holds now:
GatewayClass Accepted; Gateway Accepted/Programmed, its addresses and listeners; each
HTTPRoute's parents with Accepted and ResolvedRefs, with the spec's reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.gateway.controller import controller_named, controller_of
from playground.cluster.gateway.objects import GROUP, Gateway, HTTPRoute, Listener
from playground.cluster.secret import pem_problem

ROUTE_KINDS = {"HTTP": ("HTTPRoute", "GRPCRoute"), "HTTPS": ("HTTPRoute", "GRPCRoute"),
               "TCP": ("TCPRoute",)}   # what Envoy Gateway's listeners carry, by protocol
LAB_ROUTES = ("HTTPRoute",)   # the route kinds the lab has


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str


PENDING = "Waiting for controller"   # the CRD's default, left when no controller acts


@dataclass
class ListenerView:
    name: str
    supported_kinds: list[str]
    attached_routes: int
    conditions: list[Condition]


@dataclass
class GatewayView:
    conditions: list[Condition]
    addresses: list[str] = field(default_factory=list)
    listeners: list[ListenerView] = field(default_factory=list)


def class_conditions(cluster, name: str) -> list[Condition]:
    gc = cluster.api.peek("GatewayClass", "", name)
    controller = controller_named(cluster, gc.controller_name) if gc is not None else None
    if controller is None:
        return [Condition("Accepted", "Unknown", "Pending", PENDING)]
    return [Condition("Accepted", "True", "Accepted", controller.accepted_class)]


def ours(cluster, gw: Gateway) -> bool:
    """A controller the lab runs serves the Gateway."""
    return controller_of(cluster, gw) is not None


def _conflicted(gw: Gateway, listener: Listener) -> bool:
    """Another listener on the port with another protocol (HTTP and HTTPS and TCP cannot
    share one socket)."""
    return any(other.port == listener.port and other.protocol != listener.protocol
               for other in gw.listeners if other is not listener)


def supported(listener: Listener) -> list[str]:
    carried = ROUTE_KINDS.get(listener.protocol, ())
    wanted = listener.kinds or list(carried)
    return [kind for kind in wanted if kind in carried]


def listener_conditions(cluster, gw: Gateway, listener: Listener) -> list[Condition]:
    """As the controller serving the Gateway writes them."""
    return controller_of(cluster, gw).listener_conditions(cluster, gw, listener)


def certificate_problem(cluster, gw: Gateway, listener: Listener) -> tuple[str, str]:
    """(reason, message) of the first certificateRef that does not resolve to a TLS Secret
    the Envoy can serve; ("", "") when all do."""
    for ref in listener.certificate_refs:
        namespace = ref.namespace or gw.metadata.namespace
        if ref.group != "" or ref.kind != "Secret":
            return "InvalidCertificateRef", f"{ref.group or 'core'}/{ref.kind} is not a " \
                                            "supported certificate kind"
        if namespace != gw.metadata.namespace and not granted(
                cluster, gw.metadata.namespace, "Secret", "", namespace, ref.name, "Gateway"):
            return "RefNotPermitted", (f"Certificate ref to Secret {namespace}/{ref.name} not "
                                       "permitted by any ReferenceGrant")
        found = cluster.api.peek("Secret", namespace, ref.name)
        if found is None:
            return "InvalidCertificateRef", f"Secret {namespace}/{ref.name} does not exist"
        problem = pem_problem(found)
        if problem:
            return "InvalidCertificateRef", problem
    return "", ""


def spec_listener_conditions(cluster, gw: Gateway, listener: Listener) -> list[Condition]:
    """Envoy Gateway's: every condition the spec defines, with its reasons."""
    if listener.protocol not in ROUTE_KINDS:
        return [Condition("Accepted", "False", "UnsupportedProtocol",
                          f"Protocol {listener.protocol} is unsupported"),
                Condition("Programmed", "False", "Invalid", "Listener is invalid")]
    found = [Condition("Accepted", "True", "Accepted", "Listener has been accepted")]
    if _conflicted(gw, listener):
        found[0] = Condition("Accepted", "False", "ProtocolConflict",
                             "Another listener uses this port with another protocol")
        found.append(Condition("Conflicted", "True", "ProtocolConflict",
                               f"Port {listener.port} is taken by another protocol"))
    else:
        found.append(Condition("Conflicted", "False", "NoConflicts", "No conflicts"))
    invalid_kinds = [k for k in listener.kinds if k not in ROUTE_KINDS[listener.protocol]]
    reason, message = certificate_problem(cluster, gw, listener) \
        if listener.protocol == "HTTPS" else ("", "")
    if reason:
        found.append(Condition("ResolvedRefs", "False", reason, message))
    elif invalid_kinds:
        found.append(Condition("ResolvedRefs", "False", "InvalidRouteKinds",
                               f"Route kinds {', '.join(invalid_kinds)} are not supported"))
    else:
        found.append(Condition("ResolvedRefs", "True", "ResolvedRefs", "Resolved all refs"))
    good = all(c.status == ("True" if c.type != "Conflicted" else "False") for c in found)
    found.append(Condition("Programmed", "True", "Programmed", "Sending translated listener "
                           "configuration to the data plane") if good else
                 Condition("Programmed", "False", "Invalid", "Listener is invalid, see other "
                           "conditions"))
    return found


def listener_ready(cluster, gw: Gateway, listener: Listener) -> bool:
    return any(c.type == "Programmed" and c.status == "True"
               for c in listener_conditions(cluster, gw, listener))


def gateway_view(cluster, gw: Gateway) -> GatewayView:
    controller = controller_of(cluster, gw)
    if controller is None or not controller.writes_status(cluster, gw):
        return GatewayView([Condition("Accepted", "Unknown", "Pending", PENDING),
                            Condition("Programmed", "Unknown", "Pending", PENDING)])
    routes = attachments(cluster)
    listeners = [ListenerView(lst.name, controller.supported_kinds(lst),
                              _count(routes, gw, lst.name),
                              listener_conditions(cluster, gw, lst)) for lst in gw.listeners]
    addresses = controller.addresses(cluster, gw)
    return GatewayView(controller.gateway_conditions(cluster, gw, listeners, addresses),
                       addresses, listeners)


def _count(routes: dict, gw: Gateway, listener: str) -> int:
    return sum(1 for attached in routes.values() for key, name in attached
               if key == gw.key and name == listener)


# routes

ROUTE_MESSAGES = {   # Envoy Gateway's, by the Accepted condition's reason
    "Accepted": "Route is accepted",
    "NoMatchingParent": "No listener matches the parentRef's sectionName or port",
    "NotAllowedByListeners": "No listener allows HTTPRoutes from namespace {namespace}",
    "NoMatchingListenerHostname": "No listener hostname matches the route's hostnames"}


@dataclass
class ParentView:
    ref: str   # the parentRef as kubectl describe names it
    gateway: Gateway
    listeners: list[str]   # where it attached
    conditions: list[Condition]


def hostnames_meet(listener: str | None, route: list[str]) -> list[str]:
    """The hostnames both the listener and the route accept, each the narrower of the two
    ("*": any host); empty when they have none in common."""
    if not route:
        return [listener or "*"]
    if listener is None:
        return list(route)
    met = []
    for name in route:
        if name == listener or host_matches(listener, name):
            met.append(name)
        elif host_matches(name, listener):
            met.append(listener)
    return met


def host_matches(pattern: str, host: str) -> bool:
    """A wildcard covers one or more labels in front of its suffix."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def _namespace_allowed(cluster, gw: Gateway, listener: Listener, namespace: str) -> bool:
    if listener.namespaces_from == "All":
        return True
    if listener.namespaces_from == "Same":
        return namespace == gw.metadata.namespace
    labels = {"kubernetes.io/metadata.name": namespace}
    found = cluster.api.peek("Namespace", "", namespace)
    if found is not None:
        labels.update(found.metadata.labels)
    return all(labels.get(k) == v for k, v in listener.namespace_selector.items())


def granted(cluster, from_namespace: str, kind: str, group: str, to_namespace: str,
            name: str, source_kind: str = "HTTPRoute") -> bool:
    """A ReferenceGrant in the target's namespace lets the route's namespace refer to it."""
    for grant in cluster.api.list("ReferenceGrant", to_namespace):
        if any(s.namespace == from_namespace and s.kind == source_kind and s.group == GROUP
               for s in grant.sources) and any(
                t.kind == kind and t.group == group and t.name in (None, name)
                for t in grant.targets):
            return True
    return False


def backend_check(cluster, route: HTTPRoute, ref) -> tuple[str, str]:
    """(reason, message) of what is wrong with a backendRef; ("", "") when it resolves."""
    namespace = route.metadata.namespace
    target = ref.namespace or namespace
    if ref.group != "" or ref.kind != "Service":
        return "InvalidKind", f"{ref.group}/{ref.kind} is not a supported backend kind"
    if target != namespace and not granted(cluster, namespace, "Service", "", target,
                                           ref.name):
        return "RefNotPermitted", (f"Backend ref to Service {target}/{ref.name} not "
                                   "permitted by any ReferenceGrant")
    service = cluster.api.peek("Service", target, ref.name)
    if service is None:
        return "BackendNotFound", f"Service {target}/{ref.name} not found"
    if not any(p.port == ref.port for p in service.spec.ports):
        return "BackendNotFound", f"Service {target}/{ref.name} has no port {ref.port}"
    return "", ""


def backend_problem(cluster, route: HTTPRoute, ref) -> str:
    reason, message = backend_check(cluster, route, ref)
    return f"{reason}: {message}" if reason else ""


def resolved_refs(cluster, route: HTTPRoute) -> Condition:
    for rule in route.rules:
        for ref in rule.backend_refs:
            reason, message = backend_check(cluster, route, ref)
            if reason:
                return Condition("ResolvedRefs", "False", reason, message)
    return Condition("ResolvedRefs", "True", "ResolvedRefs", "Resolved all the Object "
                     "references for the Route")


def unsupported(route: HTTPRoute) -> str:
    """What of the route the lab's proxy cannot do ("" if nothing)."""
    for index, rule in enumerate(route.rules):
        for match in rule.matches:
            for what, kind in [("path", match.path.type)] + \
                    [("header", h.type) for h in match.headers] + \
                    [("query param", q.type) for q in match.query_params]:
                if kind == "RegularExpression":
                    return (f"rule {index}: RegularExpression {what} matches are not modelled "
                            "by the lab")
        for found in rule.filters:
            if found.type not in ("RequestHeaderModifier", "RequestRedirect", "URLRewrite"):
                return f"rule {index}: the {found.type} filter is not modelled by the lab"
    return ""


def parents(cluster, route: HTTPRoute) -> list[ParentView]:
    """One entry per parentRef a controller of the lab owns (others write nothing)."""
    found = []
    for ref in route.parent_refs:
        if ref.kind != "Gateway" or ref.group != GROUP:
            continue
        namespace = ref.namespace or route.metadata.namespace
        gw = cluster.api.peek("Gateway", namespace, ref.name)
        controller = controller_of(cluster, gw) if gw is not None else None
        if controller is None or not controller.writes_status(cluster, gw):
            continue
        says = controller.route_messages
        shown = f"{namespace}/{ref.name}" + (f"/{ref.section_name}" if ref.section_name
                                             else "")
        named = [lst for lst in gw.listeners
                 if ref.section_name in (None, lst.name) and ref.port in (None, lst.port)
                 and listener_ready(cluster, gw, lst)]
        allowed = [lst for lst in named if "HTTPRoute" in controller.supported_kinds(lst)
                   and _namespace_allowed(cluster, gw, lst, route.metadata.namespace)]
        hosted = [lst for lst in allowed if hostnames_meet(lst.hostname, route.hostnames)]
        problem = controller.route_problem(route)
        if not named:
            accepted = Condition("Accepted", "False", "NoMatchingParent",
                                 says["NoMatchingParent"])
        elif not allowed:
            accepted = Condition("Accepted", "False", "NotAllowedByListeners",
                                 says["NotAllowedByListeners"].format(
                                     namespace=route.metadata.namespace))
        elif not hosted:
            accepted = Condition("Accepted", "False", "NoMatchingListenerHostname",
                                 says["NoMatchingListenerHostname"])
        elif problem:
            accepted = Condition("Accepted", "False", "UnsupportedValue", problem)
        else:
            accepted = Condition("Accepted", "True", "Accepted", says["Accepted"])
        attached = [lst.name for lst in hosted] if accepted.status == "True" else []
        found.append(ParentView(shown, gw, attached,
                                [accepted, controller.resolved_refs(cluster, route)]))
    return found


def attachments(cluster) -> dict[str, list[tuple[str, str]]]:
    """Each HTTPRoute's (gateway key, listener name) pairs it is attached to."""
    return {route.key: [(p.gateway.key, name) for p in parents(cluster, route)
                        for name in p.listeners]
            for route in cluster.api.list("HTTPRoute")}
