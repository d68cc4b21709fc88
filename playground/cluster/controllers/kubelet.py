"""The kubelet of one node: runs the pods bound to it, asking the CNI plugin to wire them."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.ipam import HostLocalIpam, PoolExhausted
from playground.cluster.objects import NOT_READY_TAINT as NOT_READY
from playground.cluster.objects import Pod, requested_ip
from playground.cni.base import PodAttachment, PortMapping, sandbox_id
from playground.net.netns import NetError, Socket
from playground.net.network import Network
from playground.registry import CNI_META_PLUGINS


def restored_ip(pod: Pod) -> IPv4Address | None:
    """A pod loaded from a saved lab comes back with the address it had."""
    return IPv4Address(pod.status.pod_ip) if pod.status.pod_ip else None


def pod_namespace_name(pod: Pod) -> str:
    """The network namespace it runs in: its own, or with hostNetwork its node's."""
    if pod.spec.host_network and pod.spec.node_name:
        return node_namespace_name(pod.spec.node_name)
    return f"pod/{pod.metadata.namespace}/{pod.name}"


def port_mappings(pod: Pod) -> list[PortMapping]:
    """The runtime config's portMappings kubelet hands the CNI: each port with a hostPort."""
    return [PortMapping(p.host_port, p.container_port, p.protocol.lower(), p.host_ip)
            for p in pod.host_ports()]


def node_namespace_name(node: str) -> str:
    return f"node/{node}"


class Kubelet(Controller):
    def __init__(self, api: ApiServer, network: Network, node: str, cni) -> None:
        super().__init__()
        self.api, self.network, self.node, self.cni = api, network, node, cni
        self.name = f"kubelet/{node}"
        self.ipam: HostLocalIpam | None = None
        self.attachments: dict[str, PodAttachment] = {}
        self.host_sockets: dict[str, list[Socket]] = {}   # hostNetwork pods' listeners
        self.meta = [CNI_META_PLUGINS.find(name)() for name in getattr(cni, "chained", ())]

    @property
    def node_ns(self):
        return self.network.namespace(node_namespace_name(self.node))

    def start(self) -> None:
        self.follow(self.api.watch("Node", node=self.node), self.on_node)
        self.follow(self.api.watch("Pod", node=self.node), self.on_pod)

    def on_node(self, event: Event) -> None:
        node = event.object
        if event.type == "DELETED" or self.ipam is not None or node.spec.pod_cidr is None:
            return
        cidr = IPv4Network(node.spec.pod_cidr)
        self.ipam = HostLocalIpam(cidr)
        self.cni.setup_node(self.network, self.node_ns, cidr)
        # a node woken from a saved lab is Ready already, or was made NotReady (`node
        # notready`, so tainted by the node lifecycle controller) and stays so
        if not node.status.ready and not any(t.key == NOT_READY for t in node.spec.taints):
            self.api.change("Node", "", self.node, _mark_ready)

    def on_pod(self, event: Event) -> None:
        pod = event.object
        if event.type == "DELETED":
            self.teardown(pod)
        elif pod.key in self.attachments or pod.key in self.host_sockets or \
                pod.status.reason.startswith("Failed"):
            return
        elif pod.spec.host_network:
            self.run_on_host(pod)
        else:
            self.run(pod)

    def _container_id(self, pod: Pod) -> str:
        return f"{self.node}/{pod.key}/{pod.metadata.uid}"

    def run_on_host(self, pod: Pod) -> None:
        """A hostNetwork pod: no sandbox network, no CNI call, no address of its own; its
        containers listen in the node's namespace, on the node's IP."""
        sockets = []
        try:
            for container, port in pod.ports():
                sockets.append(self.node_ns.bind(port.protocol.lower(), port.container_port,
                                                 container.name))
        except NetError as error:
            for sock in sockets:
                self.node_ns.unbind(sock)
            self._set_status(pod, phase="Pending", reason="FailedStartContainer",
                             message=f"a container cannot listen on the node: {error}")
            return
        self.host_sockets[pod.key] = sockets
        node = self.api.peek("Node", "", self.node)
        host_ip = node.status.internal_ip if node else None
        self._set_status(pod, phase="Running", pod_ip=host_ip, host_ip=host_ip)

    def run(self, pod: Pod) -> None:
        ns_name = pod_namespace_name(pod)
        pod_ns = self.network.add_namespace(ns_name)
        try:
            if self.ipam is None:
                raise PoolExhausted(f"node {self.node} has no pod CIDR yet")
            ip = self.ipam.allocate(pod.key, requested_ip(pod) or restored_ip(pod))
            attachment = self.cni.add(self.network, self.node_ns, pod_ns, ip, self.ipam.subnet,
                                      self._container_id(pod))
            self.attachments[pod.key] = attachment
            address = IPv4Interface(f"{ip}/{self.ipam.subnet.prefixlen}") if self.meta else None
            for plugin in self.meta:   # the conflist's chain, with the runtime config
                plugin.add(self.node_ns, self.cni.net_name, sandbox_id(self._container_id(pod)),
                           address, port_mappings(pod))
            for container, port in pod.ports():
                pod_ns.bind(port.protocol.lower(), port.container_port, container.name)
        except (PoolExhausted, NetError, ValueError) as error:
            self._undo(pod, pod_ns)
            self._set_status(pod, phase="Pending", reason="FailedCreatePodSandBox",
                             message=f"failed to set up the pod network: {error}")
            return
        node = self.api.peek("Node", "", self.node)
        self._set_status(pod, phase="Running", pod_ip=str(attachment.ip),
                         host_ip=node.status.internal_ip if node else None)

    def _undo(self, pod: Pod, pod_ns) -> None:
        attachment = self.attachments.pop(pod.key, None)
        if attachment is not None:
            for plugin in reversed(self.meta):   # CNI DEL runs the chain backwards
                plugin.delete(self.node_ns, self.cni.net_name,
                              sandbox_id(self._container_id(pod)), port_mappings(pod))
            self.cni.delete(self.network, self.node_ns, pod_ns, attachment)
        if self.ipam is not None:
            self.ipam.release(pod.key)
        if pod_ns.name in self.network.namespaces:
            self.network.remove_namespace(pod_ns.name)

    def teardown(self, pod: Pod) -> None:
        for sock in self.host_sockets.pop(pod.key, ()):
            self.node_ns.unbind(sock)
        if pod.spec.host_network:
            return
        ns_name = pod_namespace_name(pod)
        if ns_name in self.network.namespaces:
            self._undo(pod, self.network.namespace(ns_name))

    def _set_status(self, pod: Pod, **fields) -> None:
        current = self.api.peek("Pod", pod.metadata.namespace, pod.name)
        fields.setdefault("reason", "")
        fields.setdefault("message", "")
        if current is None or all(getattr(current.status, key) == value
                                  for key, value in fields.items()):
            return   # as a real kubelet, no write when the status says so already

        def set_fields(current: Pod) -> None:
            for key, value in fields.items():
                setattr(current.status, key, value)
        self.api.change("Pod", pod.metadata.namespace, pod.name, set_fields, only=("status",))


def _mark_ready(node) -> None:
    node.status.ready = True
