"""The Cluster facade: the actions people, the CLI, the app and tests use.

Each action validates, writes the desired state to the API server, waits for the
controllers to settle, and rolls back with one clear error if the world cannot get there.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import gc
import random
from ipaddress import IPv4Address, IPv4Network

from playground.cluster import service_fields, validation
from playground.cluster.api import AlreadyExists, ApiServer, NotFound
from playground.cluster.cloud import LB_INSIDE, LB_POOL, build_outside
from playground.cluster.configmap import ConfigMaps
from playground.cluster.controllers.endpoints import EndpointsController
from playground.cluster.controllers.kubelet import Kubelet, node_namespace_name
from playground.cluster.controllers.nodeipam import NodeIpamController
from playground.cluster.controllers.scheduler import Scheduler, untolerated
from playground.cluster.dns.coredns import CoreDns
from playground.cluster.dns.kubernetes import Kubernetes
from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.errors import ClusterError
from playground.cluster.gateway import controller as gateway_controllers
from playground.cluster.ingress import (
    CONTROLLER_LABELS,
    CONTROLLER_NAME,
    CONTROLLER_NAMESPACE,
    Ingress,
    backends_of,
    validate_ingress,
)
from playground.cluster.ipam import NodeCidrAllocator
from playground.cluster.netpol.policies import NetworkPolicies
from playground.cluster.objects import (
    SYSTEM_NAMESPACES,
    Container,
    ContainerPort,
    KubeNamespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    Taint,
    Toleration,
    ValidationError,
    host_network_defaults,
    validate_name,
    validate_node,
    validate_pod,
)
from playground.cluster.proxy_config import KubeProxyConfiguration, validate_proxy_config
from playground.cluster.recipe import Wiring
from playground.cluster.service import (
    NODE_PORT_RANGE,
    SERVICE_CIDR,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
    refuse_external_policy,
    validate_service,
)
from playground.cluster.sleeping import SleepingNode, SleepingNodes
from playground.cluster.stored import RESOURCES as STORED_RESOURCES
from playground.cluster.stored import validate_stored
from playground.cluster.timers import LabTimers
from playground.cluster.validation import FieldError, check, invalid
from playground.cluster.workloads import Workloads
from playground.net.link import Ethernet
from playground.net.netns import NetError
from playground.net.network import Network
from playground.net.route import Route
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, POLICY_ENGINES, PROXY_MODES, ROUTINGS

NODE_NETWORK = IPv4Network("172.18.0.0/16")
CLUSTER_CIDR = IPv4Network("10.244.0.0/16")
GATEWAY_NAMESPACE = "vpc-gateway"
SEGMENT = "kind"
CONTROL_PLANE_TAINT = Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule")
# kubeadm labels a control-plane node so that load balancers leave it out (kind's has it)
EXCLUDE_FROM_LBS = "node.kubernetes.io/exclude-from-external-load-balancers"
CONTROL_PLANE_PORTS = [("tcp", 6443, "kube-apiserver"), ("tcp", 2379, "etcd"),
                       ("tcp", 2380, "etcd")]


def replaces_kube_proxy(cni: str) -> bool:
    """Whether the CNI of this name serves Services itself (Cilium), so no kube-proxy runs."""
    plugin = CNI_PLUGINS.get(cni)
    return plugin is not None and plugin.replaces_kube_proxy


@functools.lru_cache(maxsize=1024)
def _pod_cidr_size(pod_cidr: str) -> int:
    """The pod addresses of a node's range: all but the network, the bridge's .1 and the
    broadcast address."""
    return IPv4Network(pod_cidr).num_addresses - 3


def check_cluster_cidr(text: str, node_cidr_mask: int) -> IPv4Network:
    """The pod address range of the whole cluster, split into one subnet per node."""
    try:
        cidr = IPv4Network(text)
    except ValueError:
        raise ClusterError(f"cluster CIDR {text!r} is not an IPv4 network such as "
                           f"{CLUSTER_CIDR}") from None
    if not 8 <= cidr.prefixlen <= 24:
        raise ClusterError(f"cluster CIDR {cidr}: expected a prefix length from 8 to 24")
    if not cidr.is_private:
        raise ClusterError(f"cluster CIDR {cidr}: expected a private range (RFC 1918)")
    for name, other in (("node network", NODE_NETWORK), ("service range", SERVICE_CIDR),
                        ("load balancer pool", LB_POOL)):
        if cidr.overlaps(other):
            raise ClusterError(f"cluster CIDR {cidr} overlaps the {name} {other}")
    if not cidr.prefixlen < node_cidr_mask <= 30:
        raise ClusterError(f"cluster CIDR {cidr}: the per-node mask /{node_cidr_mask} must be "
                           f"longer than /{cidr.prefixlen} and at most /30")
    return cidr


def docker_mac(ip: IPv4Address) -> str:
    """Docker derives a container's MAC from its IP; kind nodes are Docker containers."""
    octets = ip.packed
    return "02:42:" + ":".join(f"{b:02x}" for b in octets)


class Cluster(SleepingNodes, Workloads, NetworkPolicies, ConfigMaps):
    def __init__(self, cni: str = "bridge", seed: int = 0, node_cidr_mask: int = 24,
                 proxy_mode: str = "iptables", cluster_cidr: str = str(CLUSTER_CIDR),
                 lb: str = "cloud") -> None:
        try:
            self.cni = CNI_PLUGINS.find(cni)()
            proxy_recipe = PROXY_MODES.find(proxy_mode)
            routing = ROUTINGS.find(self.cni.routing)
            lb_recipe = LB_PROVIDERS.find(lb)
            policy_recipe = POLICY_ENGINES.find(self.cni.policy)
        except ValueError as error:
            raise ClusterError(str(error)) from None
        self.cluster_cidr = check_cluster_cidr(cluster_cidr, node_cidr_mask)
        if self.cni.replaces_kube_proxy and proxy_mode != "iptables":
            raise ClusterError(f"the {cni} CNI replaces kube-proxy, so it has no proxy mode: "
                               f"drop --proxy-mode {proxy_mode}")
        self.proxy_mode = proxy_mode
        self.seed = seed
        self.network = Network(seed)
        self.api = ApiServer(clock=lambda: self.network.clock)
        self.timers = LabTimers()   # what is due on the lab clock; settle() runs it
        wiring = Wiring(self.api, self.network, self.cluster_cidr, self.cni)
        # the dataplane's recipes, asked for their controllers and node agents: who routes
        # to other nodes' pods, who serves Services (none beside a CNI that does), who
        # balances load from outside
        self.routing = routing(wiring)
        self.proxy = None if self.cni.replaces_kube_proxy else proxy_recipe(wiring)
        self.lb = lb_recipe(wiring)
        self.policy = policy_recipe(wiring)   # who enforces NetworkPolicy, if anyone
        self.recipes = [r for r in (self.routing, self.proxy, self.lb, self.policy)
                        if r is not None]
        self.allocator = NodeCidrAllocator(self.cluster_cidr, node_cidr_mask)
        self.node_agents: dict[str, list] = {}
        self.controllers: list = []
        self.node_ips: dict[str, IPv4Address] = {}
        self._node_ip_cursor = int(NODE_NETWORK.network_address) + 2
        self._used_ips: set[IPv4Address] = set()
        self.sleeping: dict[str, SleepingNode] = {}   # a loaded lab's nodes not built yet
        self.network.waker = self.wake
        self.node_segment = self.network.segment(SEGMENT)
        self.started = False
        self.held: list = []

    # lifecycle

    async def start(self, derived_later: bool = False) -> None:
        """Start the control plane; with `derived_later` (a lab being loaded) the controllers
        of derived state, EndpointSlices and kube-proxy's table, wait for start_derived, so
        they see every object at once and sync each Service once."""
        if self.started:
            return
        self.started = True
        gateway = self.network.add_namespace(GATEWAY_NAMESPACE)
        self._attach_to_node_network(gateway, NODE_NETWORK.network_address + 1)
        gateway.sysctl["net.ipv4.ip_forward"] = "1"
        build_outside(self.network, SEGMENT, NODE_NETWORK)
        self.node_ipam = NodeIpamController(self.api, self.allocator)
        self.scheduler = Scheduler(self.api)
        self.endpoints = EndpointsController(self.api)
        derived = [c for recipe in self.recipes for c in recipe.derived_controllers()]
        workloads = self._workload_controllers()
        self.controllers = [self.node_ipam, self.scheduler, self.endpoints, *workloads,
                            *(c for recipe in self.recipes for c in recipe.controllers()),
                            *derived]
        self.held = [self.endpoints, *derived] if derived_later else []
        self.held_workloads = workloads if derived_later else []   # see start_workloads
        for controller in self.controllers:
            if controller not in self.held and controller not in self.held_workloads:
                controller.start()
        await self.settle()
        if not derived_later:   # a loaded lab's come back with its objects
            await gateway_controllers.start(self)

    async def start_derived(self) -> None:
        """Start the held controllers, one after the other (kube-proxy, as the real one,
        waits for the EndpointSlices to be there before its first sync)."""
        held, self.held = self.held, []
        for controller in held:
            if controller in self.controllers:
                controller.start()
                await self.settle()

    async def stop(self) -> None:
        gc.unfreeze()   # whatever of this lab is garbage can be collected now
        for agents in self.node_agents.values():
            for agent in agents:
                await agent.stop()
        for controller in self.controllers:
            await controller.stop()
        for _ in range(2):   # the cancelled tasks' last callbacks: then nothing waiting in
            await asyncio.sleep(0)   # the event loop holds on to the lab

    async def settle(self, tick: bool = True) -> None:
        """Return once every controller has handled every event; a second of lab time passes
        (with `tick`) and what came due in it runs."""
        if tick:
            self.network.clock += 1.0
            self.timers.fire(self.network.clock)
        while True:
            await self.api.tracker.wait_idle()
            await asyncio.sleep(0)
            if self.api.tracker.pending == 0:
                # what the change built is the lab's for good: out of the cycle collector's
                # way, which would otherwise walk every node and pod again and again
                gc.freeze()
                return

    def _attach_to_node_network(self, ns, ip: IPv4Address) -> None:
        eth0 = Ethernet("eth0", docker_mac(ip))
        ns.add_device(eth0)
        self.network.segment(SEGMENT).attach(eth0)
        ns.add_address("eth0", f"{ip}/{NODE_NETWORK.prefixlen}")

    # nodes

    def _free_node_ip(self) -> IPv4Address:
        # lowest free address first; every address below the cursor is taken
        held = self.lb.node_network_addresses() | gateway_controllers.node_network_addresses(self)
        for value in range(self._node_ip_cursor, int(NODE_NETWORK.broadcast_address)):
            ip = IPv4Address(value)
            if ip not in self._used_ips and ip != LB_INSIDE and ip not in held:
                self._node_ip_cursor = value
                return ip
        raise ClusterError(f"no address left on the node network {NODE_NETWORK}")

    async def add_node(self, name: str, control_plane: bool = False,
                       internal_ip: str | None = None, pod_cidr: str | None = None) -> Node:
        node = Node(ObjectMeta(name), NodeSpec(pod_cidr=pod_cidr),
                    NodeStatus(internal_ip=internal_ip))
        if control_plane:
            node.metadata.labels["node-role.kubernetes.io/control-plane"] = ""
            node.metadata.labels[EXCLUDE_FROM_LBS] = ""
            node.spec.taints.append(CONTROL_PLANE_TAINT)
        try:
            validate_node(node)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        if self.api.peek("Node", "", name) is not None:
            raise ClusterError(f'node "{name}" already exists')
        ip = IPv4Address(internal_ip) if internal_ip else self._free_node_ip()
        if ip not in NODE_NETWORK or ip in (NODE_NETWORK.network_address,
                                            NODE_NETWORK.network_address + 1,
                                            NODE_NETWORK.broadcast_address):
            raise ClusterError(f"node {name}: InternalIP {ip} must be a free host address of "
                               f"{NODE_NETWORK} other than the gateway")
        if ip in self._used_ips or ip == LB_INSIDE:
            raise ClusterError(f"node {name}: InternalIP {ip} is already used by another node")
        if pod_cidr is not None:
            cidr = IPv4Network(pod_cidr)
            try:
                self.allocator.occupy(cidr, name)
            except ValueError as error:
                raise ClusterError(f"node {name}: {error}") from None
        node.status.internal_ip = str(ip)
        self._build_machine(name, ip, control_plane)
        self.api.create(node)
        await self.settle()
        if name in self.node_ipam.failures:
            message = self.node_ipam.failures.pop(name)
            await self.remove_node(name)
            raise ClusterError(message)
        return self.api.get("Node", "", name)

    def _check_restored_node(self, node: Node) -> tuple[IPv4Address, bool]:
        """A saved node's address and whether it is a control plane; takes its pod CIDR."""
        try:
            validate_node(node)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        if node.spec.pod_cidr is None or node.status.internal_ip is None:
            raise ClusterError(f"node {node.name}: a saved node needs its podCIDR and InternalIP")
        if self.api.peek("Node", "", node.name) is not None:
            raise ClusterError(f'node "{node.name}" already exists')
        ip = IPv4Address(node.status.internal_ip)
        if ip not in NODE_NETWORK or ip <= NODE_NETWORK.network_address + 1 or \
                ip in (NODE_NETWORK.broadcast_address, LB_INSIDE) or ip in self._used_ips:
            raise ClusterError(f"node {node.name}: InternalIP {ip} is not a free host address "
                               f"of {NODE_NETWORK}")
        try:
            self.allocator.occupy(IPv4Network(node.spec.pod_cidr), node.name)
        except ValueError as error:
            raise ClusterError(f"node {node.name}: {error}") from None
        return ip, "node-role.kubernetes.io/control-plane" in node.metadata.labels

    def agents_published(self, node: Node) -> bool:
        """Whether a Node already carries what its agents write into it (flannel's lease),
        so the other nodes can do without them while it sleeps."""
        return self.routing.published(node)

    def _build_machine(self, name: str, ip: IPv4Address, control_plane: bool) -> None:
        """The node VM itself: its eth0 on the node network and its own processes."""
        ns = self.network.add_namespace(node_namespace_name(name))
        self._attach_to_node_network(ns, ip)
        ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0",
                           via=NODE_NETWORK.network_address + 1))
        ns.bind("tcp", 10250, "kubelet")
        if control_plane:
            for proto, port, owner in CONTROL_PLANE_PORTS:
                ns.bind(proto, port, owner)
        self.node_ips[name] = ip
        self._used_ips.add(ip)
        kubelet = Kubelet(self.api, self.network, name, self.cni)
        self.node_agents[name] = [kubelet, *(agent for recipe in self.recipes
                                             for agent in recipe.node_agents(name, ns))]
        for agent in self.node_agents[name]:
            agent.start()

    async def remove_node(self, name: str) -> None:
        if self.api.peek("Node", "", name) is None:
            raise ClusterError(f'node "{name}" not found')
        self.wake(name)   # its pods' teardown runs through its kubelet
        self.api.delete("Node", "", name)   # the pod GC deletes its pods; their ReplicaSets
        await self.settle()                 # make new ones on the nodes that are left
        for agent in self.node_agents.pop(name, []):
            await agent.stop()
        ns_name = node_namespace_name(name)
        if ns_name in self.network.namespaces:
            self.network.remove_namespace(ns_name)
        self._used_ips.discard(self.node_ips.pop(name, None))
        self._node_ip_cursor = int(NODE_NETWORK.network_address) + 2
        self.allocator.release(name)

    # pods

    @functools.cached_property
    def coredns(self) -> CoreDns:
        """The program the coredns pods run, its caches one per pod; the SOA serial moves
        with the API's writes, as CoreDNS's follows its informers' last change."""
        return CoreDns(Kubernetes(self.api, self.has_namespace,
                                  lambda: self.api.resource_version), random.Random(self.seed),
                       self._corefile, self._coredns_log)

    def _corefile(self) -> str | None:
        """The Corefile key of the coredns ConfigMap, the file its pods mount."""
        found = self.api.peek("ConfigMap", "kube-system", "coredns")
        return found.data.get("Corefile") if found is not None else None

    def _coredns_log(self, line: str) -> None:
        self.api.events.warn("coredns", "configmap/kube-system/coredns", "CorefileError", line)

    def has_namespace(self, name: str) -> bool:
        return name in SYSTEM_NAMESPACES or self.api.peek("Namespace", "", name) is not None

    def free_pod_addresses(self, probe: Pod, enough: int | None = None) -> int:
        """Pod addresses left on the ready nodes that a pod like `probe` may run on; with
        `enough`, counting stops once that many are found (a check needs no more)."""
        free = 0
        for node in self.api.ordered("Node"):
            if node.status.ready and node.spec.pod_cidr and untolerated(probe, node) is None:
                size = _pod_cidr_size(node.spec.pod_cidr)
                free += max(0, size - self.api.indexed_count("Pod", "node", node.name))
                if enough is not None and free >= enough:
                    break
        return free

    async def add_namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        """Create it; one that is there takes the `labels` given (kubectl apply)."""
        try:
            validate_name("namespace", name)
            validation.check("Namespace", name, validation.labels_errors(labels or {}))
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        there = self.api.peek("Namespace", "", name)
        if there is None:
            self.api.create(KubeNamespace(ObjectMeta(name, labels=dict(labels or {}))))
            await self.settle()
        elif labels is not None and there.metadata.labels != labels:
            self.api.change("Namespace", "", name,
                            lambda ns: setattr(ns.metadata, "labels", dict(labels)))
            await self.settle()

    async def add_pod(self, name: str, containers: list[Container], namespace: str = "default",
                      labels: dict[str, str] | None = None, node_name: str | None = None,
                      tolerations: list[Toleration] | None = None,
                      annotations: dict[str, str] | None = None,
                      node_selector: dict[str, str] | None = None,
                      host_network: bool = False, dns_policy: str = "ClusterFirst",
                      dns_config: DnsConfig | None = None) -> Pod:
        pod = Pod(ObjectMeta(name, namespace, labels=dict(labels or {}),
                             annotations=dict(annotations or {})),
                  PodSpec(host_network_defaults(containers, host_network), node_name=node_name,
                          tolerations=list(tolerations or []),
                          node_selector=dict(node_selector or {}), host_network=host_network,
                          dns_policy=dns_policy, dns_config=dns_config))
        try:
            validate_pod(pod)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        self.check_namespace(namespace)
        if node_name is not None and self.api.peek("Node", "", node_name) is None:
            raise ClusterError(f'pod {pod.key}: spec.nodeName "{node_name}" is not a node')
        try:
            self.api.create(pod)
        except AlreadyExists as error:
            raise ClusterError(str(error)) from None
        await self.settle()
        created = self.api.get("Pod", namespace, name)
        if created.status.phase != "Running":
            why = created.status.message or "it could not be started"
            self.api.delete("Pod", namespace, name)
            await self.settle()
            raise ClusterError(f"pod {pod.key} was not created: {why}")
        return created

    async def add_endpoint_slice(self, endpoint_slice: EndpointSlice) -> EndpointSlice:
        """Create an EndpointSlice written by hand (checked by the manifest reader)."""
        meta = endpoint_slice.metadata
        self.check_namespace(meta.namespace)
        if self.api.peek("EndpointSlice", meta.namespace, meta.name) is not None:
            raise ClusterError(f'endpointslice "{meta.namespace}/{meta.name}" already exists')
        created = self.api.create(endpoint_slice)
        await self.settle()
        return created

    # ingress

    async def add_ingress(self, ingress: Ingress) -> Ingress:
        """Create an Ingress; the first one brings up the ingress controller and its LB."""
        try:
            validate_ingress(ingress)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        namespace = ingress.metadata.namespace
        self.check_namespace(namespace)
        if self.api.peek("Ingress", namespace, ingress.name) is not None:
            raise ClusterError(f'ingress "{ingress.key}" already exists')
        for backend in backends_of(ingress):
            service = self.api.peek("Service", namespace, backend.service)
            if service is None:
                raise ClusterError(f"ingress {ingress.key}: backend service "
                                   f"{backend.service!r} does not exist in {namespace}")
            if not any(p.port == backend.port or p.name == backend.port
                       for p in service.spec.ports):
                raise ClusterError(f"ingress {ingress.key}: service {backend.service} has no "
                                   f"port {backend.port!r}")
        await self.ensure_ingress_controller()
        created = self.api.create(ingress)
        await self.settle()
        return created

    async def ensure_ingress_controller(self) -> None:
        if self.api.peek("Deployment", CONTROLLER_NAMESPACE, CONTROLLER_NAME) is not None:
            return
        await self.add_namespace(CONTROLLER_NAMESPACE)
        await self.add_deployment(CONTROLLER_NAME, [Container(
            "controller", "registry.k8s.io/ingress-nginx/controller:v1.11.2",
            [ContainerPort(80, "http"), ContainerPort(443, "https")])],
            labels=dict(CONTROLLER_LABELS), namespace=CONTROLLER_NAMESPACE)
        await self.add_service(CONTROLLER_NAME, [ServicePort(80, "http", name="http"),
                                                 ServicePort(443, "https", name="https")],
                               namespace=CONTROLLER_NAMESPACE, selector=dict(CONTROLLER_LABELS),
                               type="LoadBalancer", external_traffic_policy="Local")

    async def delete_ingress(self, name: str, namespace: str = "default") -> None:
        await self._delete("Ingress", namespace, name)

    def served_kinds(self) -> set[str]:
        """The kinds the lab's recipes brought (a provider's CRDs)."""
        return {kind for recipe in self.recipes for kind in recipe.kinds}

    async def add_recipe_object(self, obj, check) -> None:
        """Create an object of a kind a recipe brought; `check(obj, existing)` is its
        validating webhook (ValidationError)."""
        meta = obj.metadata
        if obj.kind not in self.served_kinds():
            raise ClusterError(f'no matches for kind "{obj.kind}": its CRDs come with a '
                               "load-balancer provider this lab does not run (see --lb)")
        self.check_namespace(meta.namespace)
        if self.api.peek(obj.kind, meta.namespace, meta.name) is not None:
            raise ClusterError(f'{obj.kind} "{meta.name}" already exists')
        try:
            check(obj, self.api.list(obj.kind))
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        self.api.create(obj)
        await self.settle()

    async def delete_recipe_object(self, kind: str, name: str, namespace: str) -> None:
        if self.api.peek(kind, namespace, name) is None:
            raise ClusterError(f'{kind} "{name}" not found')
        self.api.delete(kind, namespace, name)
        await self.settle()

    def ingresses(self, namespace: str | None = None) -> list[Ingress]:
        return self.api.list("Ingress", namespace)

    # objects stored as given; the Gateway controller then does what they ask

    async def add_api_object(self, obj):
        """A GatewayClass, Gateway, HTTPRoute, ReferenceGrant or ServiceAccount."""
        try:
            validate_stored(obj)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        namespace = obj.metadata.namespace
        if namespace:
            self.check_namespace(namespace)
        if self.api.peek(obj.kind, namespace, obj.name) is not None:
            raise ClusterError(f'{STORED_RESOURCES[obj.kind]} "{obj.name}" already exists')
        created = self.api.create(obj)
        await gateway_controllers.reconcile(self)
        return created

    async def delete_api_object(self, kind: str, namespace: str, name: str) -> None:
        await self._delete(kind, namespace, name)
        await gateway_controllers.reconcile(self)

    # services

    def _taken_cluster_ips(self):
        """The cluster IPs in use (from the API server's index: 10,000 Services are not
        listed for each new one)."""
        return self.api.indexes.get(("Service", "cluster_ip"), {}).keys()

    def _taken_node_ports(self) -> dict[int, str]:
        index = self.api.indexes.get(("Service", "node_port"), {})
        return {port: "/".join(min(keys)) for port, keys in index.items() if keys}

    async def add_service(self, name: str, ports: list[ServicePort], namespace: str = "default",
                          selector: dict[str, str] | None = None, type: str = "ClusterIP",
                          cluster_ip: str | None = None,
                          annotations: dict[str, str] | None = None,
                          **spec_fields) -> Service:
        """Create a Service; the API server allocates its cluster IP and node ports."""
        service = Service(ObjectMeta(name, namespace, annotations=dict(annotations or {})),
                          ServiceSpec(ports=list(ports), selector=dict(selector or {}),
                                      type=type, cluster_ip=cluster_ip, **spec_fields))
        try:
            validate_service(service)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        self.check_namespace(namespace)
        if self.api.peek("Service", namespace, name) is not None:
            raise ClusterError(f'services "{name}" already exists')
        taken = self._taken_cluster_ips()
        if cluster_ip is not None and cluster_ip in taken:
            self._refuse_service(name, FieldError(
                "spec.clusterIPs", "Invalid value", [cluster_ip],
                f"failed to allocate IP {cluster_ip}: provided IP is already allocated"))
        if type != "ExternalName":   # an ExternalName Service has no cluster IP at all
            service.spec.cluster_ip = cluster_ip or self._free_cluster_ip(taken)
        wanted_lb = spec_fields.get("load_balancer_ip")
        if wanted_lb is not None:
            self._check_lb_ip(service, wanted_lb)
        used = self._taken_node_ports()
        service_fields.apply_defaults(service.spec)
        for index, port in enumerate(service.spec.ports):
            if port.node_port is not None and port.node_port in used:
                self._refuse_service(name, FieldError(
                    f"spec.ports[{index}].nodePort", "Invalid value", port.node_port,
                    "provided port is already allocated"))
            if service_fields.allocates_node_ports(service.spec) and port.node_port is None:
                port.node_port = self._free_node_port(used)
            if port.node_port:
                used[port.node_port] = service.key
        self._allocate_health_check(service, used)
        created = self.api.create(service)
        await self.settle()
        return created

    @staticmethod
    def _refuse_service(name: str, error: FieldError) -> None:
        """What the API server's allocators say, in its words."""
        raise ClusterError(invalid("Service", name, [error]))

    def _check_lb_ip(self, service: Service, address: str) -> None:
        """What the API server checks of spec.loadBalancerIP; whether an address can be
        given is the provider's to say (an Event, the Service pending), not the API's."""
        try:
            IPv4Address(address)
        except ValueError:
            raise ClusterError(f"service {service.key}: loadBalancerIP {address!r} is not an "
                               "IPv4 address") from None
        if service.spec.type != "LoadBalancer":
            raise ClusterError(f"service {service.key}: loadBalancerIP needs type LoadBalancer")

    def _free_cluster_ip(self, taken: set[str]) -> str:
        size = SERVICE_CIDR.num_addresses
        for _ in range(64):
            candidate = str(SERVICE_CIDR.network_address + self.network.rng.randrange(16, size - 1))
            if candidate not in taken:
                return candidate
        for address in SERVICE_CIDR.hosts():
            if str(address) not in taken:
                return str(address)
        raise ClusterError(f"no cluster IP left in the service range {SERVICE_CIDR}")

    def _allocate_health_check(self, service: Service, used: dict[int, str]) -> None:
        """The registry's allocHealthCheckNodePort: the one asked for, else a free one, for a
        Service that needs it; a Service that no longer needs it gives it back."""
        spec = service.spec
        if not service_fields.needs_health_check(spec):
            spec.health_check_node_port = None
            return
        wanted = spec.health_check_node_port
        if wanted is None:
            spec.health_check_node_port = self._free_node_port(used)
        elif problem := service_fields.health_check_problem(wanted, used):
            raise ClusterError(f"service {service.key}: Internal error occurred: failed to "
                               f"allocate requested HealthCheck NodePort {wanted}: {problem}")
        used[spec.health_check_node_port] = service.key

    def _free_node_port(self, used: dict[int, str]) -> int:
        free = [p for p in NODE_PORT_RANGE if p not in used]
        if not free:
            raise ClusterError("no node port left in the range 30000-32767")
        return free[self.network.rng.randrange(len(free))]

    SERVICE_CHANGES = ("selector", "session_affinity", "external_traffic_policy",
                       "internal_traffic_policy", "load_balancer_source_ranges",
                       "load_balancer_class")

    async def update_service(self, name: str, namespace: str = "default",
                             **changes) -> Service:
        """Change the fields of a Service spec that may change in place (kubectl patch)."""
        unknown = sorted(set(changes) - set(self.SERVICE_CHANGES))
        if unknown:
            raise ClusterError(f"service {namespace}/{name}: {unknown[0]} cannot be changed "
                               "here; delete and create the Service instead")
        old = self.find_service(name, namespace)
        service = copy.deepcopy(old)
        for field_name, value in changes.items():
            setattr(service.spec, field_name, value)
        if service.spec.session_affinity == "None":   # the config goes with the affinity
            service.spec.session_affinity_timeout_seconds = None
        service_fields.apply_defaults(service.spec)
        if not service_fields.needs_health_check(service.spec):   # released on the update
            service.spec.health_check_node_port = None
        try:
            refuse_external_policy(service, changes.get("external_traffic_policy"))
            check("Service", name, service_fields.class_change_errors(
                old.spec, service.spec))
            validate_service(service)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        used = {port: owner for port, owner in self._taken_node_ports().items()
                if owner != service.key}
        self._allocate_health_check(service, used)
        updated = self.api.update(service)
        await self.settle()
        return updated

    async def update_proxy_config(self, name: str, namespace: str, **changes) -> None:
        """Change kube-proxy's options (kubectl patch); every node's proxy syncs again."""
        if self.proxy is None:
            raise ClusterError(f"the {self.cni.name} CNI replaces kube-proxy: there are no "
                               "kube-proxy options")
        found = self.api.peek("KubeProxyConfiguration", namespace, name)
        # none yet: kube-proxy runs with its defaults, and the first change writes them out
        config = copy.deepcopy(found) if found is not None else \
            KubeProxyConfiguration(ObjectMeta(name, namespace))
        for field_name, value in changes.items():
            setattr(config, field_name, value)
        try:
            validate_proxy_config(config)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        if found is None:
            self.api.create(config)
        else:
            self.api.update(config)
        await self.settle()

    async def delete_service(self, name: str, namespace: str = "default") -> None:
        await self._delete("Service", namespace, name)

    def services(self, namespace: str | None = None) -> list[Service]:
        return self.api.list("Service", namespace)

    def find_service(self, name: str, namespace: str = "default") -> Service:
        service = self.api.peek("Service", namespace, name)
        if service is None:
            raise ClusterError(f'service "{name}" not found in namespace "{namespace}"')
        return service

    def set_node_sysctl(self, setting: str) -> None:
        """`sysctl -w KEY=VALUE` on every node."""
        try:  # every node knows the same keys: a bad one fails on the first, before any change
            for node in self.nodes():
                self.node_namespace(node.name).write_sysctl(setting)
        except NetError as error:
            raise ClusterError(str(error)) from None

    async def _delete(self, kind: str, namespace: str, name: str) -> None:
        try:
            self.api.delete(kind, namespace, name)
        except NotFound as error:
            raise ClusterError(str(error).strip('"')) from None
        await self.settle()

    # reading

    def nodes(self) -> list[Node]:
        return self.api.list("Node")

    def pods(self, namespace: str | None = None) -> list[Pod]:
        return self.api.list("Pod", namespace)

    def node_namespace(self, name: str):
        if self.api.peek("Node", "", name) is None:
            raise ClusterError(f'node "{name}" not found')
        return self.network.namespace(node_namespace_name(name))

    def find_pod(self, name: str, namespace: str = "default") -> Pod:
        pod = self.api.peek("Pod", namespace, name)
        if pod is None:
            raise ClusterError(f'pod "{name}" not found in namespace "{namespace}"')
        return pod

    def place_of(self, name: str | None) -> str | None:
        """The network namespace a pod/NS/NAME runs in: its own, or with hostNetwork its
        node's; any other name is its own namespace."""
        if name is None or not name.startswith("pod/"):
            return name
        namespace, _, pod_name = name[4:].partition("/")
        pod = self.api.peek("Pod", namespace, pod_name)
        if pod is not None and pod.spec.host_network and pod.spec.node_name:
            return f"node/{pod.spec.node_name}"
        return name

    def ip_owner(self, ip: IPv4Address) -> str | None:
        for ns in self.network.namespaces.values():
            if any(a.ip == ip and a.dev != "lo" for a in ns.addresses):
                return ns.name
        return self.sleeping_owner(ip)
