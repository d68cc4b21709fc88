"""cloud-provider-kind's own Gateway controller (v0.11.1, pkg/gateway), run with the
cloud-provider-kind load-balancer provider.

- controllerName kind.sigs.k8s.io/gateway-controller; it creates the GatewayClass
  `cloud-provider-kind` when it starts and serves the Gateways of that class name.
- One Envoy container per Gateway on the kind network, `kindccm-gw-` and 12 hex digits of
  sha256("kind/NAMESPACE/NAME"), at the next address Docker hands out: that address is the
  Gateway's status address. Routes added in it when it is created send each node's pod
  CIDR to that node and the Service CIDR to the control-plane node.
- Envoy sends a request to the backend Service's ClusterIP and port (STATIC cluster), so
  kube-proxy on the control-plane node picks the endpoint; a headless Service is STRICT_DNS
  of its name, its endpoints' addresses on the target port.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.cluster import NODE_NETWORK, SEGMENT, docker_mac
from playground.cluster.gateway import status
from playground.cluster.gateway.controller import GatewayController
from playground.cluster.gateway.objects import Gateway, GatewayClass
from playground.cluster.gateway.routing import request_of, sni_listener, terminated
from playground.cluster.gateway.status import Condition
from playground.cluster.legs import REASONS, Leg
from playground.cluster.objects import ObjectMeta
from playground.cluster.secret import pem_problem
from playground.cluster.service import SERVICE_CIDR, slices_of
from playground.gateway import kind_routes
from playground.net.link import Ethernet
from playground.net.route import Route

CONTROLLER = "kind.sigs.k8s.io/gateway-controller"
CLASS_NAME = "cloud-provider-kind"
OWNER = "envoy"
ADMIN_PORT = 10000   # envoyAdminPort
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
KINDS = ("HTTPRoute",)   # CloudProviderSupportedKinds


def container_name(namespace: str, name: str) -> str:
    """gatewayName: the container of one Gateway of the kind cluster."""
    digest = hashlib.sha256(f"kind/{namespace}/{name}".encode()).hexdigest()
    return f"kindccm-gw-{digest[:12]}"


def _conflict(gw: Gateway, listener) -> Condition | None:
    """validateListeners: TCP or UDP beside HTTP, HTTPS or TLS on a port; two of those with
    one hostname."""
    on_port = [lst for lst in gw.listeners if lst.port == listener.port]
    plain = {"TCP", "UDP"}
    named = {"HTTP", "HTTPS", "TLS"}
    if any(lst.protocol in plain for lst in on_port) and \
            any(lst.protocol in named for lst in on_port):
        return Condition("Conflicted", "True", "ProtocolConflict", "Protocol conflict: TCP/UDP "
                         "listeners cannot share a port with HTTP/HTTPS/TLS listeners.")
    if listener.protocol in named and any(
            lst is not listener and lst.protocol in named and lst.hostname == listener.hostname
            for lst in on_port):
        return Condition("Conflicted", "True", "HostnameConflict",
                         f"Hostname '{listener.hostname or ''}' conflicts with another "
                         "listener on the same port.")
    return None


def _certificate_problem(cluster, gw: Gateway, listener) -> tuple[str, str] | None:
    """validateListeners' check of each certificateRef, with its messages."""
    for ref in listener.certificate_refs:
        namespace = ref.namespace or gw.metadata.namespace
        if ref.group != "":
            return "InvalidCertificateRef", f"unsupported certificate ref grup: {ref.group}"
        if ref.kind != "Secret":
            return "InvalidCertificateRef", f"unsupported certificate ref kind: {ref.kind}"
        if namespace != gw.metadata.namespace and not status.granted(
                cluster, gw.metadata.namespace, "Secret", "", namespace, ref.name, "Gateway"):
            return "RefNotPermitted", f"reference to Secret {namespace}/{ref.name} not " \
                                      "permitted by any ReferenceGrant"
        found = cluster.api.peek("Secret", namespace, ref.name)
        if found is None:
            return "InvalidCertificateRef", f"reference to Secret {namespace}/{ref.name} not " \
                                            "found"
        problem = pem_problem(found, check_type=False)
        if problem:
            return "InvalidCertificateRef", f"malformed Secret {namespace}/{ref.name} : " \
                                            f"{problem}"
    return None


class CloudProviderKindGateway(GatewayController):
    name = CONTROLLER
    title = "cloud-provider-kind"
    accepted_class = "GatewayClass is accepted by this controller."
    route_messages = {   # validateHTTPRoute's (its else branch names hostnames for both)
        "Accepted": "Route is accepted.",
        "NoMatchingParent": "The route's hostnames do not match any listener hostnames.",
        "NotAllowedByListeners": "Route is not allowed by a listener's policy.",
        "NoMatchingListenerHostname": "The route's hostnames do not match any listener "
                                      "hostnames."}

    def serves(self, cluster, gw) -> bool:
        """Its informer takes the Gateways whose class is named cloud-provider-kind."""
        return gw.gateway_class_name == CLASS_NAME

    def gateway_classes(self) -> list:
        return [GatewayClass(ObjectMeta(CLASS_NAME, ""), CONTROLLER,
                             "cloud-provider-kind gateway API")]

    # status

    def supported_kinds(self, listener) -> list[str]:
        if listener.kinds:
            return [k for k in listener.kinds if k in KINDS]
        return list(KINDS) if listener.protocol in ("HTTP", "HTTPS") else []

    def listener_conditions(self, cluster, gw, listener) -> list[Condition]:
        conflict = _conflict(gw, listener)
        if conflict is not None:   # left without Accepted or Programmed
            return [conflict]
        if any(k not in KINDS for k in listener.kinds):
            return [Condition("ResolvedRefs", "False", "InvalidRouteKinds",
                              "Invalid route kinds specified in allowedRoutes")]
        problem = _certificate_problem(cluster, gw, listener) if listener.tls_mode else None
        if problem is not None:   # then building the TLS context fails too
            reason, message = problem
            return [Condition("ResolvedRefs", "False", reason, message),
                    Condition("Programmed", "False", "Invalid", "Failed to program listener: "
                              "failed to build TLS context for listener "
                              f"{listener.name}: {message}"),
                    Condition("Accepted", "True", "Accepted", "Listener is valid")]
        return [Condition("ResolvedRefs", "True", "ResolvedRefs", "All references resolved"),
                Condition("Programmed", "True", "Programmed", "Listener is programmed"),
                Condition("Accepted", "True", "Accepted", "Listener is valid")]

    def resolved_refs(self, cluster, route) -> Condition:
        """translateHTTPRouteToEnvoyRoutes: the last rule whose backends fail says why."""
        found = Condition("ResolvedRefs", "True", "ResolvedRefs", "All references resolved")
        for rule in route.rules:
            if not kind_routes.redirects(rule):
                reason, message = kind_routes.backend_error(cluster, route, rule)
                if reason:
                    found = Condition("ResolvedRefs", "False", reason, message)
        return found

    def addresses(self, cluster, gw) -> list[str]:
        ns = cluster.network.find(container_name(gw.metadata.namespace, gw.name))
        address = ns.primary_address("eth0") if ns is not None else None
        return [str(address)] if address is not None else []

    def writes_status(self, cluster, gw) -> bool:
        """No container (no node to route through yet): syncGateway returns before it
        writes the Gateway's status or its routes'."""
        return bool(self.addresses(cluster, gw))

    def gateway_conditions(self, cluster, gw, listeners, addresses) -> list[Condition]:
        done = sum(1 for view in listeners for c in view.conditions
                   if c.type == "Programmed" and c.status == "True")
        programmed = Condition("Programmed", "True", "Programmed", "Envoy configuration "
                               "updated successfully") if done == len(listeners) else \
            Condition("Programmed", "False", "ListenersNotProgrammed",
                      f"{done} out of {len(listeners)} listeners failed to be programmed")
        return [programmed, Condition("Accepted", "True", "Accepted", "Gateway is accepted")]

    # the containers

    def node_network_addresses(self, cluster) -> set:
        return {IPv4Address(a) for gw in cluster.api.list("Gateway") if self.serves(cluster, gw)
                for a in self.addresses(cluster, gw)}

    async def reconcile(self, cluster) -> None:
        wanted = {container_name(gw.metadata.namespace, gw.name): gw
                  for gw in cluster.api.list("Gateway") if self.serves(cluster, gw)}
        for name in [ns for ns in cluster.network.namespaces
                     if ns.startswith("kindccm-gw-") and ns not in wanted]:
            cluster.network.remove_namespace(name)   # its Gateway is gone
        for name, gw in sorted(wanted.items()):
            if cluster.network.find(name) is None and not self._create(cluster, name):
                continue
            self._listen(cluster, name, gw)

    def _create(self, cluster, name: str) -> bool:
        """docker run on the kind network, then the route-adder's routes; without nodes it
        fails, and is deleted, as cloud-provider-kind does."""
        nodes = [n for n in cluster.api.list("Node") if n.status.internal_ip]
        control = next((n for n in nodes if CONTROL_PLANE in n.metadata.labels), None)
        address = _free_address(cluster)
        if control is None or address is None:
            return False
        ns = cluster.network.add_namespace(name)
        eth0 = Ethernet("eth0", docker_mac(address))
        ns.add_device(eth0)
        cluster.network.segment(SEGMENT).attach(eth0)
        ns.add_address("eth0", f"{address}/{NODE_NETWORK.prefixlen}")
        ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0",
                           via=NODE_NETWORK.network_address + 1))
        for node in nodes:
            if node.spec.pod_cidr:
                ns.add_route(Route(IPv4Network(node.spec.pod_cidr), dev="eth0",
                                   via=IPv4Address(node.status.internal_ip)))
        ns.add_route(Route(SERVICE_CIDR, dev="eth0", via=IPv4Address(control.status.internal_ip)))
        ns.sysctl["net.ipv4.ip_forward"] = "1"
        ns.sysctl["net.ipv4.conf.all.rp_filter"] = "0"
        ns.bind("tcp", ADMIN_PORT, OWNER)
        return True

    def _listen(self, cluster, name: str, gw: Gateway) -> None:
        """One Envoy listener per port with a programmed listener (LDS)."""
        ns = cluster.network.namespace(name)
        wanted = {lst.port for lst in gw.listeners if lst.protocol != "UDP"
                  and status.listener_ready(cluster, gw, lst)}
        for sock in [s for s in ns.sockets if s.remote is None and s.owner == OWNER
                     and s.port != ADMIN_PORT and s.port not in wanted]:
            ns.unbind(sock)
        for port in sorted(wanted):
            if not ns.port_in_use("tcp", port):
                ns.bind("tcp", port, OWNER)

    # a request at its Envoy

    def _gateway_at(self, cluster, namespace: str) -> Gateway | None:
        return next((gw for gw in cluster.api.list("Gateway") if self.serves(cluster, gw)
                     and container_name(gw.metadata.namespace, gw.name) == namespace), None)

    def follow(self, cluster, trace, request) -> Leg | None:
        if trace.verdict != "delivered" or trace.delivered_to.owner != OWNER:
            return None
        where = trace.delivered_to.namespace
        gw = self._gateway_at(cluster, where)
        port = trace.delivered_packet.dport
        if gw is None or port == ADMIN_PORT:
            return None
        asked = request_of(request)
        tls = ""
        if any(lst.port == port and lst.protocol == "HTTPS" for lst in gw.listeners):
            listener = sni_listener(cluster, gw, port, asked.host)   # a filter chain per one
            tls = f"{terminated(gw, listener, asked.host)}; "
        hosts = kind_routes.virtual_hosts(cluster, gw, port)
        host = kind_routes.pick_host(hosts, asked.host)
        if host is None:
            shown = ", ".join(sorted(hosts)) or "none"
            return self._answer(cluster, trace, gw, 404, f"{tls}listener-{port}: no virtual host "
                                f"takes host {asked.host or '(none)'} (domains: {shown})")
        entry = kind_routes.first_route(host, asked)
        if entry is None:
            return self._answer(cluster, trace, gw, 404, f"{tls}virtual host {host.domain}: no "
                                f"route matches path {asked.path}")
        why = tls + kind_routes.explain(entry, asked)
        rule = entry.route.rules[entry.rule]
        redirect = kind_routes.redirect_of(rule, asked)
        if redirect is not None:
            code, location = redirect
            return self._answer(cluster, trace, gw, code, f"{why}; redirect to {location}",
                                location)
        if entry.error:
            return self._answer(cluster, trace, gw, 500, f"{why}; direct response 500: "
                                                          f"{entry.error}")
        return self._forward(cluster, trace, gw, entry, why)

    def _answer(self, cluster, trace, gw, code: int, why: str, location: str = "") -> Leg:
        title = f"gateway {gw.key} answers {code} {REASONS[code]}" + (
            f" (Location: {location})" if location else "") + ":"
        return Leg(title, why, cluster.network.reply(trace), "answer", "", "gateway")

    def _forward(self, cluster, trace, gw, entry, why: str) -> Leg:
        """The weighted clusters' draw, then Envoy's own connection to the one drawn."""
        where = trace.delivered_to.namespace
        refs = [ref for ref in entry.route.rules[entry.rule].backend_refs if ref.weight]
        total = sum(ref.weight for ref in refs)
        drawn = cluster.network.rng.randrange(total)
        upto = 0
        for ref in refs:
            upto += ref.weight
            if drawn < upto:
                break
        namespace = ref.namespace or entry.route.metadata.namespace
        shown = ", ".join(f"{r.name} {r.weight}" for r in refs)
        why += f"; weights {shown}: drew {drawn} of {total} -> {ref.name}"
        service = cluster.api.get("Service", namespace, ref.name)
        backend = f"{namespace}/{ref.name}:{ref.port}"
        if service.spec.cluster_ip == "None":   # headless: STRICT_DNS of its name
            ready = _endpoints(cluster, service, ref.port)
            if not ready:   # no host in the cluster: no healthy upstream
                return self._answer(cluster, trace, gw, 503, f"{why}; {ref.name}.{namespace}"
                                    ".svc.cluster.local resolves to no address")
            address, number = ready[cluster.network.rng.randrange(len(ready))]
            why += f"; STRICT_DNS {ref.name}.{namespace}.svc.cluster.local: {len(ready)} " \
                   "addresses"
        else:
            address, number = IPv4Address(service.spec.cluster_ip), ref.port
            why += f"; STATIC cluster {namespace}_{ref.name}_core_Service_{ref.port}: the " \
                   "Service's ClusterIP"
        onward = cluster.network.send(where, address, "tcp", number, owner=OWNER)
        return Leg(f"gateway {gw.key}'s Envoy {where} opens its own connection to "
                   f"{address}:{number}:", why, onward, "proxied", backend, "gateway")


def _free_address(cluster) -> IPv4Address | None:
    """Docker's IPAM on the kind network: the lowest address no container or node holds."""
    taken = {a.ip for device in cluster.network.segment(SEGMENT).devices
             if device.namespace is not None for a in device.namespace.addresses}
    taken |= {IPv4Address(n.status.internal_ip) for n in cluster.api.list("Node")
              if n.status.internal_ip}
    for value in range(int(NODE_NETWORK.network_address) + 2,
                       int(NODE_NETWORK.broadcast_address)):
        if IPv4Address(value) not in taken:
            return IPv4Address(value)
    return None


def _endpoints(cluster, service, port: int) -> list[tuple[IPv4Address, int]]:
    """What STRICT_DNS of a headless Service finds: its ready endpoints, on the port the
    Service port targets."""
    wanted = next((p for p in service.spec.ports if p.port == port), None)
    if wanted is None:
        return []
    found = []
    for slice_ in slices_of(cluster.api, service.metadata.namespace, service.name):
        number = next((p.port for p in slice_.ports if p.name == wanted.name), None)
        if number is not None:
            found += [(IPv4Address(e.address), number) for e in slice_.endpoints if e.ready]
    return sorted(found)
