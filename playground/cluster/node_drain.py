"""kubectl cordon, uncordon and drain (k8s.io/kubectl pkg/drain, v1.31). Cordoning sets the
node unschedulable, which the lab keeps as the taint the node lifecycle controller writes for
it (node.kubernetes.io/unschedulable:NoSchedule, TaintNodesByCondition); DaemonSet pods
tolerate it. Draining cordons, then checks every pod on the node with kubectl's filters
(DaemonSet-managed pods are never evicted: without --ignore-daemonsets the drain stops; a
pod with no controller needs --force) and evicts the rest, waiting for each to be gone."""

from __future__ import annotations

from playground.cluster import validation
from playground.cluster.objects import Taint

UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
DAEMON_SET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMON_SET_WARNING = "ignoring DaemonSet-managed Pods"
UNMANAGED_FATAL = "Pods declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"


class DrainError(ValueError):
    """One of kubectl's error lines: no such node, or a label it refuses."""


def unschedulable(node) -> bool:
    return any(t.key == UNSCHEDULABLE and t.effect == "NoSchedule" for t in node.spec.taints)


def _node(cluster, name: str):
    node = cluster.api.peek("Node", "", name)
    if node is None:
        raise DrainError(f'Error from server (NotFound): nodes "{name}" not found')
    return node


async def cordon(cluster, name: str, wanted: bool = True) -> str:
    """`node/NAME cordoned` (or uncordoned), or `already ...` when nothing changes."""
    node = _node(cluster, name)
    verb = "cordoned" if wanted else "uncordoned"
    if unschedulable(node) == wanted:
        return f"node/{name} already {verb}"

    def edit(stored) -> None:
        stored.spec.taints = [t for t in stored.spec.taints if t.key != UNSCHEDULABLE]
        if wanted:
            stored.spec.taints.append(Taint(UNSCHEDULABLE, "", "NoSchedule",
                                            cluster.network.clock))
    cluster.api.change("Node", "", name, edit)
    await cluster.settle()
    return f"node/{name} {verb}"


def _sorted_filter(pods: list, ignore_daemonsets: bool, force: bool):
    """kubectl's filters, in its order: what to evict, the warnings, the fatal errors."""
    evict, warnings, fatal = [], {}, {}
    for pod in pods:
        ref = pod.metadata.controller_ref()
        where = f"{pod.metadata.namespace}/{pod.name}"
        if ref is not None and ref.kind == "DaemonSet":
            (warnings if ignore_daemonsets else fatal).setdefault(
                DAEMON_SET_WARNING if ignore_daemonsets else DAEMON_SET_FATAL, []).append(where)
            continue
        if ref is None:
            if not force:
                fatal.setdefault(UNMANAGED_FATAL, []).append(where)
                continue
            warnings.setdefault(UNMANAGED_WARNING, []).append(where)
        evict.append(pod)
    order = (DAEMON_SET_FATAL, DAEMON_SET_WARNING, UNMANAGED_FATAL, UNMANAGED_WARNING)
    by_filter = lambda found: {m: found[m] for m in order if m in found}   # noqa: E731
    return evict, by_filter(warnings), by_filter(fatal)   # kubectl's filters run in this order


async def drain(cluster, name: str, ignore_daemonsets: bool = False,
                force: bool = False) -> tuple[str, bool]:
    """kubectl drain's output and whether the node was drained."""
    lines = [await cordon(cluster, name)]
    pods = sorted((p for p in cluster.api.indexed("Pod", "node", name) if not p.terminating),
                  key=lambda p: (p.metadata.namespace, p.name))
    evict, warnings, fatal = _sorted_filter(pods, ignore_daemonsets, force)
    if fatal:
        errors = [f"cannot delete {message}: {', '.join(where)}"
                  for message, where in fatal.items()]
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        lines += [f'error: unable to drain node "{name}" due to error:{joined}, '
                  "continuing command...", "There are pending nodes to be drained:",
                  f" {name}", *errors]
        return "\n".join(lines), False
    lines += [f"Warning: {message}: {', '.join(where)}" for message, where in warnings.items()]
    for pod in evict:
        lines.append(f"evicting pod {pod.metadata.namespace}/{pod.name}")
    for pod in evict:   # the Eviction API: a graceful delete; kubectl waits for it
        await cluster.delete_pod(pod.name, pod.metadata.namespace)
        lines.append(f"pod/{pod.name} evicted")
    lines.append(f"node/{name} drained")
    return "\n".join(lines), True


async def label_node(cluster, name: str, changes: list[str], overwrite: bool = False) -> str:
    """kubectl label node NAME key=value key-: `node/NAME labeled` (or unlabeled)."""
    node = _node(cluster, name)
    sets, drops = {}, []
    for change in changes:
        if change.endswith("-") and "=" not in change:
            drops.append(change[:-1])
            continue
        key, sep, value = change.partition("=")
        if not sep or not key:
            raise DrainError(f"error: invalid label spec: {change}")
        if not overwrite and node.metadata.labels.get(key, value) != value:
            raise DrainError(f"error: '{key}' already has a value "
                             f"({node.metadata.labels[key]}), and --overwrite is false")
        sets[key] = value
    labels = {k: v for k, v in {**node.metadata.labels, **sets}.items() if k not in drops}
    try:
        validation.check("Node", name, validation.meta_errors("Node", name, None, labels))
    except validation.ValidationError as error:
        raise DrainError(str(error)) from None

    def edit(stored) -> None:
        stored.metadata.labels = dict(labels)
    cluster.api.change("Node", "", name, edit)
    await cluster.settle()
    return f"node/{name} {'unlabeled' if drops and not sets else 'labeled'}"
