"""A loaded lab's nodes sleep: their objects are in the API server, their machines are not.

Building 5,000 nodes and 150,000 pods' namespaces, veths and rules takes minutes; looking
at one node takes one. So a restored node is only written down (its address on the node
network, its pods' namespace names) and built, by its own kubelet and agents, the first
time something needs it: a lookup of its namespace or of one of its pods', an ARP for its
address, a pod placed on it or removed from it. Built that way it is the node that never
slept: the agents start as when it joined and wire its pods in the order they came.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.controllers.kubelet import node_namespace_name, pod_namespace_name
from playground.cluster.objects import Node, Pod
from playground.net.network import Sleeper


@dataclass(frozen=True)
class SleepingNode:
    """What building a loaded node later needs: its address, its role, whether its bridge
    outlived its pods."""

    ip: IPv4Address
    control_plane: bool
    bridge: bool
    pods: Sleeper   # what its pods' namespaces wait on (one for all: 150,000 pods)


class SleepingNodes:
    """The Cluster's side of sleeping nodes (mixed into Cluster)."""

    def restore_node(self, node: Node, bridge: bool) -> None:
        """Bring back a saved node with its name, addresses, pod CIDR, labels and taints,
        asleep (the cloud controller gives it its public IP again if it is still free);
        `bridge`: its cni0 outlived its pods."""
        ip, control_plane = self._check_restored_node(node)
        self.node_ips[node.name] = ip
        self._used_ips.add(ip)
        self.sleeping[node.name] = SleepingNode(ip, control_plane, bridge, Sleeper(node.name))
        self.network.asleep[node_namespace_name(node.name)] = Sleeper(node.name, str(ip))
        self.node_segment.sleepers[ip] = functools.partial(self.wake, node.name)
        self.api.restore(node)
        if not self.agents_published(node):
            self.wake(node.name)   # other nodes need what its agent writes into the Node

    def sleep_pod(self, pod: Pod) -> None:
        """A restored pod on a sleeping node: its namespace is built with the node."""
        sleeper = self.sleeping.get(pod.spec.node_name)
        if sleeper is not None and not pod.spec.host_network:   # the node's namespace waits
            self.network.asleep[pod_namespace_name(pod)] = sleeper.pods

    def watch_sleepers(self) -> None:
        """From now on a pod placed on (or removed from) a sleeping node wakes it, as its
        kubelet must run it."""
        self.api.index_listeners.setdefault(("Pod", "node"), []).append(self._pod_moved)

    def _pod_moved(self, node_name) -> None:
        if node_name in self.sleeping:
            self.api.tracker.add()   # settle() waits for the wake like for any event
            asyncio.get_running_loop().call_soon(self._wake_counted, node_name)

    def _wake_counted(self, name: str) -> None:
        try:
            self.wake(name)
        finally:
            self.api.tracker.done()

    def wake(self, name: str) -> None:
        """Build a sleeping node now: its machine and agents, which wire its pods at the
        addresses they had."""
        sleeper = self.sleeping.pop(name, None)
        if sleeper is None:
            return
        self.node_segment.sleepers.pop(sleeper.ip, None)
        self.network.asleep.pop(node_namespace_name(name), None)
        for pod in self.api.indexed("Pod", "node", name):
            self.network.asleep.pop(pod_namespace_name(pod), None)
        self._build_machine(name, sleeper.ip, sleeper.control_plane)
        kubelet, *others = self.node_agents[name]
        kubelet.drain_first()   # the node joins (its pod CIDR), then its agents set up, then
        for agent in others:    # its pods start, as when it first joined
            agent.drain()
        if sleeper.bridge and hasattr(self.cni, "ensure_bridge"):
            node = self.api.peek("Node", "", name)
            self.cni.ensure_bridge(self.network.namespace(node_namespace_name(name)),
                                   IPv4Network(node.spec.pod_cidr))
        for agent in (kubelet, *others):
            agent.drain()

    def wake_all(self) -> None:
        """Build every sleeping node (for what needs the whole dataplane: verify, export)."""
        for name in sorted(self.sleeping):
            self.wake(name)

    def sleeping_owner(self, ip: IPv4Address) -> str | None:
        """The sleeping node or pod holding an address, woken to answer for it."""
        if not self.sleeping:
            return None
        node = next((n for n, s in self.sleeping.items() if s.ip == ip), None)
        pod = None if node else next(
            (p for p in self.api.list("Pod") if p.status.pod_ip == str(ip)
             and p.spec.node_name in self.sleeping), None)
        if pod is not None:
            node = pod.spec.node_name
        if node is None:
            return None
        self.wake(node)
        return pod_namespace_name(pod) if pod is not None else node_namespace_name(node)
