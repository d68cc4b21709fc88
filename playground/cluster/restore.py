"""Rebuild a cluster from saved API objects: check them as the API server would, replay them
into a fresh cluster with the addresses they had, and let the controllers converge.

Controllers derive everything else again (EndpointSlices of Services with a selector,
pod wiring, kube-proxy rules, load balancer routes), so nothing of the dataplane is saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from playground.cluster.api import creation_order
from playground.cluster.cluster import CLUSTER_CIDR, Cluster, ClusterError, check_cluster_cidr
from playground.cluster.gateway import controller as gateway_controllers
from playground.cluster.gc_pause import gc_paused
from playground.cluster.kinds import AFTER_DERIVED, KINDS, NODES, OBJECTS, RESTORE_ORDER
from playground.cluster.legacy import adopt_legacy_pods
from playground.cluster.objects import ValidationError
from playground.cluster.service import CONTROLLER_NAME, MANAGED_BY


@dataclass
class ClusterSettings:
    cni: str = "bridge"
    seed: int = 0
    node_cidr_mask: int = 24
    bridges: list[str] = field(default_factory=list)  # nodes whose bridge outlived its pods
    proxy_mode: str = "iptables"
    cluster_cidr: str = str(CLUSTER_CIDR)
    clock: float = 0.0   # the lab time it was saved at, where the workload controllers go on
    lb: str = "cloud"    # the load-balancer provider


def nodes_with_bridge(cluster: Cluster) -> list[str]:
    """The bridge plugin makes cni0 on a node's first pod and never removes it (a sleeping
    node has one if it had one, or once its pods are wired)."""
    if not hasattr(cluster.cni, "ensure_bridge"):
        return []
    return [node.name for node in cluster.nodes() if _has_bridge(cluster, node.name)]


def _has_bridge(cluster: Cluster, node: str) -> bool:
    sleeper = cluster.sleeping.get(node)
    if sleeper is None:
        return "cni0" in cluster.node_namespace(node).devices
    return sleeper.bridge or cluster.api.indexed_count("Pod", "node", node) > 0


def saved_objects(cluster: Cluster) -> list:
    """The objects a save keeps: all but the EndpointSlices a controller keeps by itself."""
    kept = []
    for kind in RESTORE_ORDER:
        for obj in cluster.api.list(kind):
            if kind == "EndpointSlice" and _derived(cluster.api.peek, obj):
                continue
            kept.append(obj)
    return kept


def _derived(peek, endpoint_slice) -> bool:
    """A slice the EndpointSlice controller keeps (its managed-by label): written again."""
    return endpoint_slice.metadata.labels.get(MANAGED_BY) == CONTROLLER_NAME


def check_objects(objects: list, cluster_cidr: IPv4Network = CLUSTER_CIDR) -> None:
    """Everything the API server and the allocators would refuse, before building anything."""
    with gc_paused():
        _check_objects(objects, cluster_cidr)


def _check_objects(objects: list, cluster_cidr: IPv4Network) -> None:
    seen: set[tuple[str, str, str]] = set()
    by_kind: dict[str, list] = {kind: [] for kind in RESTORE_ORDER}
    for obj in objects:
        key = (obj.kind, obj.metadata.namespace, obj.metadata.name)
        if key in seen:
            shown = f"{key[1]}/{key[2]}"
            raise ClusterError(f"{obj.kind} {shown if shown.isprintable() else repr(shown)} "
                               "is listed twice")
        seen.add(key)
        by_kind[obj.kind].append(obj)
    try:
        for kind in KINDS:
            kind.check(by_kind[kind.name], by_kind, cluster_cidr)
    except ValidationError as error:
        raise ClusterError(str(error)) from None


Progress = Callable[[str, int, int], None]  # (what, done, of how many; 0: not known)
PACE = 64  # with a progress report, controllers and the replay yield every this many steps


async def restore_cluster(settings: ClusterSettings, objects: list,
                          progress: Progress | None = None) -> Cluster:
    """A started cluster holding `objects` as saved; ClusterError (and nothing left running)
    if they cannot all come back. With `progress`, it is told how far the replay is and the
    event loop runs now and then, so a screen can show it."""
    cidr = check_cluster_cidr(settings.cluster_cidr, settings.node_cidr_mask)
    objects = adopt_legacy_pods(objects)
    check_objects(objects, cidr)
    cluster = Cluster(settings.cni, settings.seed, settings.node_cidr_mask,
                      proxy_mode=settings.proxy_mode, cluster_cidr=str(cidr), lb=settings.lb)
    try:
        with gc_paused():   # many new objects, none in a cycle (a 5,000-node load: 20)
            await cluster.start(derived_later=True)
            cluster.api.pace = PACE if progress is not None else 0
            await _replay(cluster, objects, settings, progress or _quiet)
    except BaseException:
        await cluster.stop()
        raise
    finally:
        cluster.api.pace = 0
    return cluster


def _quiet(what: str, done: int, total: int) -> None:
    pass


async def _replay(cluster: Cluster, objects: list, settings: ClusterSettings,
                  progress: Progress) -> None:
    by_kind: dict[str, list] = {kind: [] for kind in RESTORE_ORDER}
    for obj in objects:
        by_kind[obj.kind].append(obj)
    for kind, found in by_kind.items():   # the controllers see them as they first came;
        if kind != "Pod":                 # pods need no order: no controller acts on a bound
            found.sort(key=creation_order)   # one, a waiting one finds its nodes as full
    rest = [obj for kind in KINDS if kind.restore == OBJECTS for obj in by_kind[kind.name]]
    bridged = set(settings.bridges)
    saved_versions = [(obj, obj.metadata.resource_version) for obj in objects]
    steps = [obj for kind in KINDS if kind.restore == NODES for obj in by_kind[kind.name]] + rest
    for done, obj in enumerate(steps):
        if done % PACE == 0:
            progress("objects", done, len(steps))
            if cluster.api.pace:
                await asyncio.sleep(0)
        if obj.kind == "Node":   # asleep: its machine and pods are built when first needed
            cluster.restore_node(obj, obj.name in bridged)
        else:
            cluster.api.restore(obj)
            if obj.kind == "Pod":
                cluster.sleep_pod(obj)
    progress("controllers", 0, 0)
    await cluster.settle()
    await cluster.start_derived()
    for kind in KINDS:
        if kind.restore == AFTER_DERIVED:
            for obj in by_kind[kind.name]:
                cluster.api.restore(obj)
    await cluster.settle()
    cluster.watch_sleepers()
    for pod in by_kind["Pod"]:
        now = cluster.api.peek("Pod", pod.metadata.namespace, pod.name)
        if pod.status.phase != "Running" and now is not None and (
                now.spec.node_name, now.status.phase, now.status.reason) == (
                pod.spec.node_name, pod.status.phase, pod.status.reason):
            continue   # saved waiting (no node fits it, or its node's port is taken): still so
        if now is None or now.status.phase != "Running" or now.status.pod_ip != pod.status.pod_ip:
            why = now.status.message if now is not None else "it was deleted"
            raise ClusterError(f"pod {pod.key} could not be started again: {why or 'unknown'}")
    if settings.clock:   # the workload controllers go on from the time the lab was saved
        cluster.network.clock = settings.clock
    await cluster.start_workloads()
    await gateway_controllers.start(cluster)   # its proxies outside the cluster, run again
    for obj, version in saved_versions:  # the controllers' updates bumped some: put back
        stored = cluster.api.peek(obj.kind, obj.metadata.namespace, obj.metadata.name)
        if stored is not None:
            stored.metadata.resource_version = version
