"""Applying manifests all or nothing: every document is read and checked against the API
server's rules and against the lab (names taken, namespaces, node ports, cluster IPs, room
for the pods) before the first object is created; then all are created, and if the cluster
still refuses one (a pod that cannot start), the ones created before it are deleted again
and the random source put back, so the lab is as it was.

`Plan` stands in for the Cluster while the documents are read: it has the Cluster's add_*
methods, checks what each would create without touching the lab, and notes the call.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.configmap import ConfigMap, validate_config_map
from playground.cluster.controllers.deployment import replica_sets_of
from playground.cluster.controllers.replicaset import owned_by
from playground.cluster.daemonset import DaemonSet, validate_daemon_set
from playground.cluster.deployment import Deployment, validate_deployment
from playground.cluster.dns.resolv import DnsConfig
from playground.cluster.gateway import controller as gateway_controllers
from playground.cluster.ingress import (
    CONTROLLER_NAME,
    CONTROLLER_NAMESPACE,
    Ingress,
    backends_of,
    validate_ingress,
)
from playground.cluster.netpol.model import NetworkPolicy
from playground.cluster.netpol.validate import validate_network_policy
from playground.cluster.objects import (
    Container,
    ObjectMeta,
    Pod,
    PodSpec,
    Toleration,
    ValidationError,
    host_network_defaults,
    validate_name,
    validate_pod,
)
from playground.cluster.pod_template import SPEC_FIELDS, PodTemplate, split_spec
from playground.cluster.service import Service, ServicePort, ServiceSpec, validate_service
from playground.cluster.statefulset import StatefulSet, validate_stateful_set
from playground.cluster.stored import RESOURCES as STORED_RESOURCES
from playground.cluster.stored import validate_stored
from playground.limits import LimitError, check_pod_total

RESOURCES = {"Namespace": "namespaces", "Pod": "pods", "Deployment": "deployments.apps",
             "DaemonSet": "daemonsets.apps", "StatefulSet": "statefulsets.apps",
             "Service": "services", "Ingress": "ingresses.networking.k8s.io",
             "EndpointSlice": "endpointslices.discovery.k8s.io",
             "NetworkPolicy": "networkpolicies.networking.k8s.io", "ConfigMap": "configmaps",
             "IPAddressPool": "ipaddresspools.metallb.io",
             "L2Advertisement": "l2advertisements.metallb.io", **STORED_RESOURCES}


@dataclass
class Step:
    where: str
    kind: str
    namespace: str
    name: str
    create: Callable[[], Awaitable]
    undo: Callable[[], Awaitable] | None = None  # for a change to an object already there


class Plan:
    """What a set of manifests would create, checked whole; `apply` then creates it whole."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.where = ""
        self.steps: list[Step] = []
        self.keys: dict[tuple[str, str, str], str] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.node_ports: dict[int, str] = {}
        self.cluster_ips: dict[str, str] = {}
        self.pods: list[tuple[Pod, int]] = []  # a pod like those to come, and how many
        self.create_only = False  # kubectl create -f: what is there already is refused
        self.planned: list = []   # recipes' objects to come (checked against each other)

    @property
    def api(self):
        """The API server as the lab has it before this apply (what exists already)."""
        return self.cluster.api

    @property
    def network(self):
        """The lab's network: generateName draws its names from its random source."""
        return self.cluster.network

    # the Cluster's methods, as the manifest readers call them

    async def add_namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        self._valid(lambda: validate_name("namespace", name))
        there = self.cluster.api.peek("Namespace", "", name)
        if there is not None:
            if labels is None or there.metadata.labels == labels:
                return  # unchanged, as kubectl apply says of it
            before = dict(there.metadata.labels)
            self.steps.append(Step(self.where, "Namespace", "", name,
                                   lambda: self.cluster.add_namespace(name, labels),
                                   lambda: self.cluster.add_namespace(name, before)))
            return
        self._claim("Namespace", "", name)
        self._note("Namespace", "", name, lambda: self.cluster.add_namespace(name, labels))

    async def add_network_policy(self, policy: NetworkPolicy) -> None:
        """Checked now; created, or its spec replaced (kubectl apply), at apply."""
        self._valid(lambda: validate_network_policy(policy))
        self._create_or_replace("NetworkPolicy", policy, self.cluster.add_network_policy)

    async def add_config_map(self, config_map: ConfigMap) -> None:
        """Checked now; created, or its data replaced (kubectl apply), at apply."""
        self._valid(lambda: validate_config_map(config_map))
        self._create_or_replace("ConfigMap", config_map, self.cluster.add_config_map)

    def _create_or_replace(self, kind: str, obj, add) -> None:
        """A new object is claimed; one already there is replaced at apply, and put back as
        it was if a later document fails (kubectl create -f refuses it instead)."""
        meta = obj.metadata
        there = self.cluster.api.peek(kind, meta.namespace, meta.name)
        if there is None or self.create_only:
            self._claim(kind, meta.namespace, meta.name)
            self._note(kind, meta.namespace, meta.name, lambda: add(obj))
            return
        key = (kind, meta.namespace, meta.name)
        if key in self.keys:
            self._fail(f"{kind} {meta.name} is given twice (first in {self.keys[key]})")
        self.keys[key] = self.where
        before = copy.deepcopy(there)
        self.steps.append(Step(self.where, kind, meta.namespace, meta.name,
                               lambda: add(obj), lambda: add(before)))

    async def add_pod(self, name: str, containers: list[Container], namespace: str = "default",
                      labels: dict[str, str] | None = None, node_name: str | None = None,
                      tolerations: list[Toleration] | None = None,
                      annotations: dict[str, str] | None = None,
                      node_selector: dict[str, str] | None = None,
                      host_network: bool = False, dns_policy: str = "ClusterFirst",
                      dns_config: DnsConfig | None = None) -> None:
        pod = Pod(ObjectMeta(name, namespace, labels=dict(labels or {}),
                             annotations=dict(annotations or {})),
                  PodSpec(host_network_defaults(containers, host_network), node_name=node_name,
                          tolerations=list(tolerations or []),
                          node_selector=dict(node_selector or {}), host_network=host_network,
                          dns_policy=dns_policy, dns_config=dns_config))
        self._valid(lambda: validate_pod(pod))
        self._claim("Pod", namespace, name)
        if node_name is not None and self.cluster.api.peek("Node", "", node_name) is None:
            self._fail(f'spec.nodeName: nodes "{node_name}" not found')
        self.pods.append((pod, 1))
        self._note("Pod", namespace, name, lambda: self.cluster.add_pod(
            name, containers, namespace=namespace, labels=labels, node_name=node_name,
            tolerations=tolerations, annotations=annotations, node_selector=node_selector,
            host_network=host_network, dns_policy=dns_policy, dns_config=dns_config))

    async def add_deployment(self, name: str, containers: list[Container], replicas: int = 1,
                             labels: dict[str, str] | None = None,
                             namespace: str = "default", selector: dict[str, str] | None = None,
                             **spec) -> None:
        chosen = dict(labels or {"app": name})
        template_spec, rest = split_spec(spec)
        deployment = Deployment(ObjectMeta(name, namespace), replicas, dict(selector or chosen),
                                PodTemplate(chosen, containers, **template_spec), **rest)
        self._valid(lambda: validate_deployment(deployment))
        self._claim("Deployment", namespace, name)
        self.pods.append((Pod(ObjectMeta("probe", namespace), PodSpec(
            containers, host_network=deployment.template.host_network)), replicas))
        self._note("Deployment", namespace, name, lambda: self.cluster.add_deployment(
            name, containers, replicas, labels=labels, namespace=namespace, selector=selector,
            **spec))

    async def add_daemon_set(self, daemon_set: DaemonSet) -> None:
        namespace, name = daemon_set.metadata.namespace, daemon_set.name
        self._valid(lambda: validate_daemon_set(daemon_set))
        self._claim("DaemonSet", namespace, name)
        self._note("DaemonSet", namespace, name,
                   lambda: self.cluster.add_daemon_set(daemon_set))

    async def add_stateful_set(self, stateful_set: StatefulSet) -> None:
        namespace, name = stateful_set.metadata.namespace, stateful_set.name
        self._valid(lambda: validate_stateful_set(stateful_set))
        self._claim("StatefulSet", namespace, name)
        probe = Pod(ObjectMeta("probe", namespace), stateful_set.template.pod_spec())
        self.pods.append((probe, stateful_set.replicas))
        self._note("StatefulSet", namespace, name,
                   lambda: self.cluster.add_stateful_set(stateful_set))

    async def update_deployment(self, name: str, namespace: str, containers: list[Container],
                                labels: dict[str, str], selector: dict[str, str],
                                **spec) -> None:
        """kubectl apply of a Deployment that is there: checked now, rolled out at apply."""
        key = ("Deployment", namespace, name)
        if key in self.keys:
            self._fail(f"Deployment {name} is given twice (first in {self.keys[key]})")
        self.keys[key] = self.where
        current = self.cluster.api.get("Deployment", namespace, name)
        if dict(selector) != current.selector:
            self._fail(f"deployment {current.key}: spec.selector: field is immutable")
        changed = copy.deepcopy(current)
        changed.template.containers, changed.template.labels = containers, dict(labels)
        for field, value in spec.items():
            setattr(changed.template if field in SPEC_FIELDS else changed, field, value)
        self._valid(lambda: validate_deployment(changed))
        before = {field: copy.deepcopy(getattr(
            current.template if field in SPEC_FIELDS else current, field)) for field in spec}

        async def undo() -> None:
            await self.cluster.update_deployment(
                name, namespace, containers=current.template.containers,
                labels=current.template.labels, selector=current.selector, **before)

        self.steps.append(Step(self.where, "Deployment", namespace, name, lambda: (
            self.cluster.update_deployment(name, namespace, containers=containers,
                                           labels=labels, selector=selector, **spec)), undo))

    async def add_service(self, name: str, ports: list[ServicePort], namespace: str = "default",
                          selector: dict[str, str] | None = None, type: str = "ClusterIP",
                          cluster_ip: str | None = None,
                          annotations: dict[str, str] | None = None, **spec_fields) -> None:
        service = Service(ObjectMeta(name, namespace, annotations=dict(annotations or {})),
                          ServiceSpec(ports=copy.deepcopy(ports), selector=dict(selector or {}),
                                      type=type, cluster_ip=cluster_ip, **spec_fields))
        self._valid(lambda: validate_service(service))
        self._claim("Service", namespace, name)
        taken = self.cluster._taken_node_ports()
        for index, port in enumerate(service.spec.ports):
            if port.node_port is None:
                continue
            holder = taken.get(port.node_port) or self.node_ports.get(port.node_port)
            if holder is not None:
                self._fail(f"spec.ports[{index}].nodePort: Invalid value: {port.node_port}: "
                           f"provided port is already allocated (to {holder})")
            self.node_ports[port.node_port] = f"{namespace}/{name}"
        if cluster_ip is not None:
            holder = self.cluster_ips.get(cluster_ip) or (
                "another Service" if cluster_ip in self.cluster._taken_cluster_ips() else None)
            if holder is not None:
                self._fail(f"spec.clusterIPs: Invalid value: []string{{\"{cluster_ip}\"}}: "
                           f"failed to allocate IP {cluster_ip}: provided IP is already "
                           f"allocated (to {holder})")
            self.cluster_ips[cluster_ip] = f"{namespace}/{name}"
        self.services[(namespace, name)] = service
        self._note("Service", namespace, name, lambda: self.cluster.add_service(
            name, ports, namespace=namespace, selector=selector, type=type,
            cluster_ip=cluster_ip, annotations=annotations, **spec_fields))

    async def add_endpoint_slice(self, endpoint_slice) -> None:
        meta = endpoint_slice.metadata
        self._claim("EndpointSlice", meta.namespace, meta.name)
        self._note("EndpointSlice", meta.namespace, meta.name,
                   lambda: self.cluster.add_endpoint_slice(endpoint_slice))

    async def add_recipe_object(self, obj, check) -> None:
        """An object of a kind a recipe brought (a provider's CRD), checked with the others
        of its kind this apply makes."""
        meta = obj.metadata
        if obj.kind not in self.cluster.served_kinds():
            self._fail(f'no matches for kind "{obj.kind}": its CRDs come with a load-balancer '
                       "provider this lab does not run (see --lb)")
        planned = [o for o in self.planned if o.kind == obj.kind]
        self._valid(lambda: check(obj, self.cluster.api.list(obj.kind) + planned))
        self._claim(obj.kind, meta.namespace, meta.name)
        self.planned.append(obj)
        self._note(obj.kind, meta.namespace, meta.name,
                   lambda: self.cluster.add_recipe_object(obj, check))

    async def add_ingress(self, ingress: Ingress) -> None:
        self._valid(lambda: validate_ingress(ingress))
        namespace = ingress.metadata.namespace
        self._claim("Ingress", namespace, ingress.name)
        for backend in backends_of(ingress):
            service = self.services.get((namespace, backend.service)) or \
                self.cluster.api.peek("Service", namespace, backend.service)
            if service is None:
                self._fail(f"backend service {backend.service!r} does not exist in {namespace}")
            if not any(p.port == backend.port or p.name == backend.port
                       for p in service.spec.ports):
                self._fail(f"service {backend.service} has no port {backend.port!r}")
        self._note("Ingress", namespace, ingress.name,
                   lambda: self.cluster.add_ingress(ingress))

    async def add_api_object(self, obj) -> None:
        self._valid(lambda: validate_stored(obj))
        self._claim(obj.kind, obj.metadata.namespace, obj.name)
        self._note(obj.kind, obj.metadata.namespace, obj.name,
                   lambda: self.cluster.add_api_object(obj))

    # checks

    def _fail(self, problem: str):
        raise ClusterError(f"{self.where}: {problem}")

    def _valid(self, validate: Callable[[], None]) -> None:
        try:
            validate()
        except ValidationError as error:
            self._fail(str(error))

    def _claim(self, kind: str, namespace: str, name: str) -> None:
        key = (kind, namespace, name)
        if key in self.keys:
            self._fail(f"{kind} {name} is given twice (first in {self.keys[key]})")
        self.keys[key] = self.where
        if namespace and not self.cluster.has_namespace(namespace) and \
                ("Namespace", "", namespace) not in self.keys:
            self._fail(f'namespaces "{namespace}" not found')
        if self.cluster.api.peek(kind, namespace, name) is not None:
            self._fail(f'{RESOURCES[kind]} "{name}" already exists')

    def _note(self, kind: str, namespace: str, name: str, create) -> None:
        self.steps.append(Step(self.where, kind, namespace, name, create))

    def check_room(self, what: str) -> None:
        """The pods to come, against the lab's ceiling and the nodes' free addresses."""
        wanted = sum(count for _, count in self.pods)
        try:
            check_pod_total(self.cluster.api.count("Pod"), wanted)
        except LimitError as error:
            raise ClusterError(f"{what}: {error}") from None
        # pods on the node's network take no address of the pod CIDR
        addressed = [(pod, count) for pod, count in self.pods if not pod.spec.host_network]
        wanted = sum(count for _, count in addressed)
        # the most a probe may find: a pod that tolerates more has more room
        free = max((self.cluster.free_pod_addresses(pod, enough=wanted) for pod, _ in addressed),
                   default=0)
        if wanted > free:
            raise ClusterError(f"{what}: its {wanted} pods do not fit: the nodes they may run "
                               f"on have {free} pod addresses left")

    # applying

    async def apply(self, what: str) -> None:
        """Create every step in order; if one fails, delete what was created before it."""
        cluster = self.cluster
        rng = cluster.network.rng.getstate()
        had_controller = cluster.api.peek("Deployment", CONTROLLER_NAMESPACE,
                                          CONTROLLER_NAME) is not None
        done: list[Step] = []
        try:
            for step in self.steps:
                await step.create()
                done.append(step)
        except ClusterError as error:
            failed = step
            for created in reversed(done):
                if created.undo is not None:
                    await created.undo()
                else:
                    await _delete(cluster, created.kind, created.namespace, created.name)
            if any(created.kind in STORED_RESOURCES for created in done):
                await gateway_controllers.reconcile(cluster)   # a Gateway's proxy goes with it
            if not had_controller:   # the first Ingress brought it up
                for kind in ("Service", "Deployment"):
                    await _delete(cluster, kind, CONTROLLER_NAMESPACE, CONTROLLER_NAME)
                await _delete(cluster, "Namespace", "", CONTROLLER_NAMESPACE)
            await cluster.settle()
            cluster.network.rng.setstate(rng)
            raise ClusterError(f"{failed.where}: {error} (nothing of {what} was applied)") \
                from None


async def _delete(cluster: Cluster, kind: str, namespace: str, name: str) -> None:
    """Take back what this apply made, at once: a Deployment with its ReplicaSets and pods,
    a DaemonSet or StatefulSet with its pods (never started for anyone, so no grace period
    to wait out)."""
    found = cluster.api.peek(kind, namespace, name)
    if found is None:
        return
    doomed = [(kind, name)]
    if kind == "Deployment":
        doomed += [("ReplicaSet", rs.name) for rs in replica_sets_of(cluster.api, found)]
        doomed += [("Pod", pod.name) for pod in cluster.owned_pods(found)]
    elif kind in ("DaemonSet", "StatefulSet"):
        doomed += [("Pod", pod.name) for pod in owned_by(cluster.api, "Pod", found)]
    for what, called in doomed:
        if cluster.api.peek(what, namespace, called) is not None:
            cluster.api.delete(what, namespace, called)
    await cluster.settle()
