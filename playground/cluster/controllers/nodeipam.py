"""Gives every node a pod CIDR from the cluster CIDR (kube-controller-manager's node IPAM)."""

from __future__ import annotations

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.ipam import NodeCidrAllocator, PoolExhausted


class NodeIpamController(Controller):
    name = "node-ipam"

    def __init__(self, api: ApiServer, allocator: NodeCidrAllocator) -> None:
        super().__init__()
        self.api = api
        self.allocator = allocator
        self.failures: dict[str, str] = {}

    def start(self) -> None:
        self.follow(self.api.watch("Node"), self.on_node)

    def on_node(self, event: Event) -> None:
        node = event.object
        if event.type == "DELETED":
            self.allocator.release(node.name)
            return
        if node.spec.pod_cidr is not None:
            return
        try:
            cidr = self.allocator.allocate(node.name)
        except PoolExhausted as error:
            self.failures[node.name] = str(error)
            return
        def give(current) -> None:
            current.spec.pod_cidr = str(cidr)
        self.api.change("Node", "", node.name, give)

