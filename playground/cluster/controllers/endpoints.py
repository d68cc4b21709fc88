"""Keeps the EndpointSlices of every Service with a selector: its pods, one slice per set of
port numbers they resolve the Service's ports to (pkg/controller/endpointslice's reconciler:
pods that give a named port different numbers are in different slices). A Service without
a selector is left alone: its slices are the ones a manifest wrote."""

from __future__ import annotations

import hashlib

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.objects import ObjectMeta, Pod
from playground.cluster.replicaset import NAME_ALPHABET
from playground.cluster.service import (
    CONTROLLER_NAME,
    MANAGED_BY,
    SERVICE_NAME_LABEL,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    slices_of,
)

ZONE_LABEL = "topology.kubernetes.io/zone"


def selects(service: Service, pod: Pod) -> bool:
    selector = service.spec.selector
    return (bool(selector) and pod.metadata.namespace == service.metadata.namespace
            and all(pod.metadata.labels.get(k) == v for k, v in selector.items()))


def resolve_target_port(pod: Pod, port: ServicePort) -> int | None:
    """podutil.FindPort: a named targetPort is the pod's container port of that name and
    protocol (None when the pod has none); a number is itself; none given, the port."""
    target = port.target_port
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    for _container, container_port in pod.ports():
        if container_port.name == target and container_port.protocol == port.protocol:
            return container_port.container_port
    return None


PortSet = tuple[tuple[int, str, "str | None"], ...]   # (number, protocol, name) per port


def port_set(ports: list[EndpointPort]) -> PortSet:
    return tuple((p.port, p.protocol, p.name) for p in ports)


def slice_name(service: Service, ports: PortSet) -> str:
    """generateName `<service>-` and five characters; made from the Service and the port
    set rather than drawn, so the lab's random source (cluster IPs, pod names) is untouched."""
    digest = hashlib.sha256(f"{service.metadata.uid}/{ports!r}".encode()).digest()
    suffix = "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:5])
    return f"{service.name[:57]}-{suffix}"


def managed(slice_: EndpointSlice) -> bool:
    return slice_.metadata.labels.get(MANAGED_BY) == CONTROLLER_NAME


class EndpointsController(Controller):
    name = "endpointslice-controller"

    def __init__(self, api: ApiServer) -> None:
        super().__init__()
        self.api = api
        self.listing: dict[str, set[str]] = {}   # pod key -> Services whose slices list it
        self.dirty: set[tuple[str, str]] = set()   # Services to sync at the end of a burst

    def start(self) -> None:
        """Sync every Service there is (a loaded lab's: each once), then follow changes."""
        self.follow(self.api.watch("Service", replay=False), self.on_service)
        self.follow(self.api.watch("Pod", replay=False), self.on_pod)
        self.dirty = {(s.metadata.namespace, s.name) for s in self.api.list("Service")
                      if s.spec.selector}
        self._flush()

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED":
            self._delete(service.metadata.namespace, service.name)
        else:
            self.dirty.add((service.metadata.namespace, service.name))
        self._flush()

    def on_pod(self, event: Event) -> None:
        pod = event.object
        namespace = pod.metadata.namespace
        # a Service selecting the pod has one of its labels as its first selector pair
        candidates = {s.name for k, v in pod.metadata.labels.items()
                      for s in self.api.indexed("Service", "selector", (namespace, k, v))}
        candidates |= self.listing.get(pod.key, set())
        for name in sorted(candidates):
            service = self.api.peek("Service", namespace, name)
            if service is not None and (selects(service, pod) or self._lists(service, pod)):
                self.dirty.add((namespace, name))
        self._flush()

    def _flush(self) -> None:
        """Sync each Service once per burst of events, when the last one is handled (so
        settled still means synced): a slice only depends on the pods as they are now."""
        if self.burst_goes_on(len(self.dirty)):
            return
        keys, self.dirty = sorted(self.dirty), set()
        for namespace, name in keys:
            self.sync(namespace, name)

    def _lists(self, service: Service, pod: Pod) -> bool:
        return service.name in self.listing.get(pod.key, ())

    def _remember(self, name: str, old: list[Endpoint], new: list[Endpoint]) -> None:
        for endpoint in old:
            self.listing.get(endpoint.target, set()).discard(name)
        for endpoint in new:
            self.listing.setdefault(endpoint.target, set()).add(name)

    def _delete(self, namespace: str, name: str) -> None:
        """The Service's own slices go with it (their owner reference); hand-made ones stay."""
        for slice_ in slices_of(self.api, namespace, name):
            if not managed(slice_):
                continue
            self._remember(name, slice_.endpoints, [])
            try:
                self.api.delete("EndpointSlice", namespace, slice_.name)
            except NotFound:
                pass

    def _endpoint(self, service: Service, pod: Pod) -> Endpoint:
        node = self.api.peek("Node", "", pod.spec.node_name) if pod.spec.node_name else None
        zone = node.metadata.labels.get(ZONE_LABEL) if node is not None else None
        hostname = pod.spec.hostname if pod.spec.hostname and \
            pod.spec.subdomain == service.name else None
        return Endpoint(pod.status.pod_ip, pod.ready and not pod.terminating,
                        pod.spec.node_name, pod.key, serving=pod.ready,
                        terminating=pod.terminating, zone=zone, hostname=hostname)

    def desired(self, service: Service) -> dict[PortSet, list[Endpoint]]:
        """The Service's pods grouped by the port numbers they give its ports; a pod with no
        port of that name is left out of that port. No pods: one empty slice."""
        namespace = service.metadata.namespace
        first = sorted(service.spec.selector.items())[0]
        # a terminating pod stays listed, not ready, until it is gone (as the EndpointSlice
        # controller does since EndpointSliceTerminatingCondition)
        pods = [p for p in self.api.indexed("Pod", "label", (namespace, *first))
                if selects(service, p) and p.status.pod_ip
                and (p.status.phase == "Running" or p.terminating)]
        groups: dict[PortSet, list[Endpoint]] = {}
        for pod in pods:
            ports = tuple((number, port.protocol, port.name) for port in service.spec.ports
                          if (number := resolve_target_port(pod, port)) is not None)
            groups.setdefault(ports, []).append(self._endpoint(service, pod))
        return groups or {(): []}

    def sync(self, namespace: str, name: str) -> None:
        service = self.api.peek("Service", namespace, name)
        if service is None or not service.spec.selector:
            return
        groups = self.desired(service)
        current = {port_set(s.ports): s for s in slices_of(self.api, namespace, name)
                   if managed(s)}
        self._remember(name, [e for s in current.values() for e in s.endpoints],
                       [e for endpoints in groups.values() for e in endpoints])
        for ports, stale in current.items():
            if ports not in groups:
                self.api.delete("EndpointSlice", namespace, stale.name)
        labels = {SERVICE_NAME_LABEL: name, MANAGED_BY: CONTROLLER_NAME}
        for ports, endpoints in groups.items():
            old = current.get(ports)
            if old is None:
                self.api.create(EndpointSlice(
                    ObjectMeta(slice_name(service, ports), namespace, labels=dict(labels)),
                    service=service.key, endpoints=endpoints,
                    ports=[EndpointPort(*port) for port in ports]),
                    handed_over=True)
            elif old.endpoints != endpoints:
                def edit(stored: EndpointSlice, endpoints=endpoints) -> None:
                    stored.endpoints = endpoints
                self.api.change("EndpointSlice", namespace, old.name, edit)
