"""Keeps one EndpointSlice per Service: the ready pods its selector matches."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.objects import ObjectMeta, Pod
from playground.cluster.service import Endpoint, EndpointPort, EndpointSlice, Service


def selects(service: Service, pod: Pod) -> bool:
    selector = service.spec.selector
    return (bool(selector) and pod.metadata.namespace == service.metadata.namespace
            and all(pod.metadata.labels.get(k) == v for k, v in selector.items()))


def resolve_target_port(pod: Pod, target: int | str | None, default: int) -> int | None:
    """A named targetPort is looked up among the pod's container ports."""
    if target is None:
        return default
    if isinstance(target, int):
        return target
    for _container, port in pod.ports():
        if port.name == target:
            return port.container_port
    return None


class EndpointsController(Controller):
    name = "endpointslice-controller"

    def __init__(self, api: ApiServer) -> None:
        super().__init__()
        self.api = api
        self.listing: dict[str, set[str]] = {}   # pod key -> Services whose slice lists it
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

    def _remember(self, name: str, current, endpoints: list) -> None:
        for endpoint in current.endpoints if current is not None else ():
            self.listing.get(endpoint.target, set()).discard(name)
        for endpoint in endpoints:
            self.listing.setdefault(endpoint.target, set()).add(name)

    def _delete(self, namespace: str, name: str) -> None:
        current = self.api.peek("EndpointSlice", namespace, name)
        if current is not None:
            self._remember(name, current, [])
        try:
            self.api.delete("EndpointSlice", namespace, name)
        except NotFound:
            pass

    def sync(self, namespace: str, name: str) -> None:
        service = self.api.peek("Service", namespace, name)
        if service is None or not service.spec.selector:
            return
        first = sorted(service.spec.selector.items())[0]
        # a terminating pod stays listed, not ready, until it is gone (as the EndpointSlice
        # controller does since EndpointSliceTerminatingCondition)
        pods = [p for p in self.api.indexed("Pod", "label", (namespace, *first))
                if selects(service, p) and p.status.pod_ip
                and (p.status.phase == "Running" or p.terminating)]
        # kube-proxy wants one port number per slice port; pods that disagree are left out
        ports, endpoints = [], []
        for port in service.spec.ports:
            numbers = {resolve_target_port(p, port.target_port, port.port) for p in pods} - {None}
            number = min(numbers) if numbers else None
            if number is not None:
                ports.append(EndpointPort(number, port.protocol, port.name))
        for pod in pods:
            endpoints.append(Endpoint(pod.status.pod_ip, pod.ready and not pod.terminating,
                                      pod.spec.node_name, pod.key, serving=pod.ready,
                                      terminating=pod.terminating))
        desired = EndpointSlice(ObjectMeta(name, namespace,
                                           labels={"kubernetes.io/service-name": name}),
                                service=service.key, endpoints=endpoints, ports=ports)
        current = self.api.peek("EndpointSlice", namespace, name)
        self._remember(name, current, endpoints)
        if current is None:
            self.api.create(desired, handed_over=True)
        elif (current.endpoints, current.ports) != (desired.endpoints, desired.ports):
            def edit(stored: EndpointSlice) -> None:
                stored.endpoints, stored.ports = endpoints, ports
            self.api.change("EndpointSlice", namespace, name, edit)
