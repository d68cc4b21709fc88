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

    def start(self) -> None:
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("Pod"), self.on_pod)

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED":
            self._delete(service.metadata.namespace, service.name)
        else:
            self.sync(service.metadata.namespace, service.name)

    def on_pod(self, event: Event) -> None:
        pod = event.object
        for service in self.api.list("Service", pod.metadata.namespace):
            if selects(service, pod) or self._lists(service, pod):
                self.sync(service.metadata.namespace, service.name)

    def _lists(self, service: Service, pod: Pod) -> bool:
        current = self.api.peek("EndpointSlice", service.metadata.namespace, service.name)
        return current is not None and any(e.target == pod.key for e in current.endpoints)

    def _delete(self, namespace: str, name: str) -> None:
        try:
            self.api.delete("EndpointSlice", namespace, name)
        except NotFound:
            pass

    def sync(self, namespace: str, name: str) -> None:
        service = self.api.peek("Service", namespace, name)
        if service is None or not service.spec.selector:
            return
        pods = [p for p in self.api.list("Pod", namespace)
                if selects(service, p) and p.status.phase == "Running" and p.status.pod_ip]
        # kube-proxy wants one port number per slice port; pods that disagree are left out
        ports, endpoints = [], []
        for port in service.spec.ports:
            numbers = {resolve_target_port(p, port.target_port, port.port) for p in pods} - {None}
            number = min(numbers) if numbers else None
            if number is not None:
                ports.append(EndpointPort(number, port.protocol, port.name))
        for pod in pods:
            endpoints.append(Endpoint(pod.status.pod_ip, True, pod.spec.node_name, pod.key))
        desired = EndpointSlice(ObjectMeta(name, namespace,
                                           labels={"kubernetes.io/service-name": name}),
                                service=service.key, endpoints=endpoints, ports=ports)
        current = self.api.peek("EndpointSlice", namespace, name)
        if current is None:
            self.api.create(desired)
        elif (current.endpoints, current.ports) != (desired.endpoints, desired.ports):
            current = self.api.get("EndpointSlice", namespace, name)
            current.endpoints, current.ports = desired.endpoints, desired.ports
            self.api.update(current)
