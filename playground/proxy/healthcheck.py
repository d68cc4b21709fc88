"""kube-proxy's health servers on one node (pkg/proxy/healthcheck): its own /healthz on
10256 (proxy_health.go), which a load balancer asks whether the node's proxy is up, and
(service_health.go) for every LoadBalancer Service with externalTrafficPolicy Local, a
listener on its healthCheckNodePort that says whether this node has endpoints of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from playground.cluster.service_fields import needs_health_check
from playground.net.netns import Namespace, NetError, Socket
from playground.timefmt import LAB_EPOCH, http_date

OWNER = "kube-proxy"
HEALTHZ_PORT = 10256   # --healthz-bind-address's default port, on every address


@dataclass
class Instance:
    service: str          # NAMESPACE/NAME
    port: int
    socket: Socket | None
    endpoints: int = 0    # this node's ready endpoints of the Service


@dataclass
class HttpAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str

    def text(self) -> str:
        """The answer as `curl -i` prints it."""
        head = [f"HTTP/1.1 {self.status} {self.reason}"]
        head += [f"{name}: {value}" for name, value in self.headers]
        return "\n".join(head) + "\n\n" + self.body + "\n"


@dataclass
class HealthServer:
    ns: Namespace
    node: str
    instances: dict[str, Instance] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)   # what could not listen, as logged
    healthz: Socket | None = None   # the proxier's own /healthz listener
    started: float = 0.0   # lab time of the first sync, its lastUpdated

    def listen_healthz(self, clock: float) -> None:
        """ProxyHealthServer.Run: the listener a node's kube-proxy opens at start."""
        if self.healthz is None and self.ns is not None:   # a proxy tested on its own has none
            self.healthz, self.started = self.ns.bind("tcp", HEALTHZ_PORT, OWNER), clock

    def close_healthz(self) -> None:
        if self.healthz is not None:
            self.ns.close(self.healthz)
            self.healthz = None

    def sync_service(self, key: str, port: int | None, endpoints: int) -> None:
        """SyncServices and SyncEndpoints for one Service: close a listener no longer
        wanted (or moved), open a new one, keep the local endpoint count."""
        current = self.instances.get(key)
        if current is not None and current.port != port:
            if current.socket is not None:
                self.ns.close(current.socket)
            del self.instances[key]
            current = None
        if port is None:
            return
        if current is None:
            try:
                sock = self.ns.bind("tcp", port, OWNER)
            except NetError as error:   # kube-proxy logs it and records an Event
                self.failures.append(f"node {self.node} failed to start healthcheck "
                                     f"\"{key}\" on port {port}: {error}")
                sock = None
            current = self.instances[key] = Instance(key, port, sock)
        current.endpoints = endpoints

    def sync_from(self, key: str, service, slices) -> None:
        """One Service's listener and count from its object and slices (None: it is gone):
        what a proxier that syncs Service by Service tells its health server."""
        port = service.spec.health_check_node_port if service is not None and \
            needs_health_check(service.spec) else None
        local = {e.address for s in slices for e in s.endpoints
                 if e.ready and e.node_name == self.node} if port else set()
        self.sync_service(key, port, len(local))

    def serving(self, port: int) -> Instance | None:
        return next((i for i in self.instances.values()
                     if i.port == port and i.socket is not None), None)

    def answer(self, port: int, clock: float) -> HttpAnswer | None:
        """hcHandler.ServeHTTP: 200 while the node has endpoints of the Service, else 503;
        on 10256 the proxier's /healthz."""
        if port == HEALTHZ_PORT and self.healthz is not None:
            return self._healthz(clock)
        found = self.serving(port)
        if found is None:
            return None
        namespace, _, name = found.service.partition("/")
        body = ("{\n"
                "\t\"service\": {\n"
                f"\t\t\"namespace\": \"{namespace}\",\n"
                f"\t\t\"name\": \"{name}\"\n"
                "\t},\n"
                f"\t\"localEndpoints\": {found.endpoints},\n"
                "\t\"serviceProxyHealthy\": true\n"
                "}")
        status, reason = (200, "OK") if found.endpoints else (503, "Service Unavailable")
        headers = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
                   ("X-Load-Balancing-Endpoint-Weight", str(found.endpoints)),
                   ("Date", http_date(clock)), ("Content-Length", str(len(body.encode())))]
        return HttpAnswer(status, reason, headers, body)

    def _healthz(self, clock: float) -> HttpAnswer:
        """healthzHandler: 200 with the last sync's time; the lab's proxier syncs every
        change at once, so it is never stale (and the node is never being deleted)."""
        body = (f'{{"lastUpdated": "{_rfc3339(self.started)}",'
                f'"currentTime": "{_rfc3339(clock)}", "nodeEligible": true}}')
        headers = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
                   ("Date", http_date(clock)), ("Content-Length", str(len(body.encode())))]
        return HttpAnswer(200, "OK", headers, body)


def _rfc3339(clock: float) -> str:
    """Go's time.Time in JSON (UTC), on the lab's calendar."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(LAB_EPOCH + int(clock)))
