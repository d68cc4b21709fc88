"""What both kube-proxy tables (iptables and nftables mode) follow: the Services, their
EndpointSlices, and which Services have a UDP port (the conntrack clean-up reads only those).
A subclass says what a change means in `_changed`."""

from __future__ import annotations

from playground.cluster.api import Event
from playground.cluster.controllers.base import Controller
from playground.cluster.service import EndpointSlice, Service


class ServiceWatch(Controller):
    def __init__(self) -> None:
        super().__init__()
        self.services: dict[str, Service] = {}
        self.slices: dict[str, dict[tuple[str, str], EndpointSlice]] = {}
        self.udp_keys: set[str] = set()

    def follow_services(self) -> None:
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED":
            self.services.pop(service.key, None)
        else:
            self.services[service.key] = service
        if event.type != "DELETED" and any(p.protocol == "UDP" for p in service.spec.ports):
            self.udp_keys.add(service.key)
        else:
            self.udp_keys.discard(service.key)
        self._changed(service.key)

    def on_slice(self, event: Event) -> None:
        slice_ = event.object
        group = self.slices.setdefault(slice_.service, {})
        where = (slice_.metadata.namespace, slice_.metadata.name)
        if event.type == "DELETED":
            group.pop(where, None)
            if not group:
                del self.slices[slice_.service]
        else:
            group[where] = slice_
        self._changed(slice_.service)

    def _changed(self, key: str) -> None:
        raise NotImplementedError
