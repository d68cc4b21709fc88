"""The Cluster's actions on workloads (a mixin): Deployments, their ReplicaSets and rollouts,
and pod deletion, which is graceful on the lab clock."""

from __future__ import annotations

from playground.cluster.controllers.daemonset import DaemonSetController
from playground.cluster.controllers.deployment import (
    DeploymentController,
    new_replica_set,
    replica_sets_of,
)
from playground.cluster.controllers.garbage import GarbageCollector
from playground.cluster.controllers.node_lifecycle import NodeLifecycleController
from playground.cluster.controllers.replicaset import (
    ReplicaSetController,
    delete_gracefully,
    owned_by,
)
from playground.cluster.controllers.statefulset import StatefulSetController
from playground.cluster.controllers.termination import PodTermination
from playground.cluster.daemonset import DaemonSet, validate_daemon_set
from playground.cluster.deployment import Deployment, validate_deployment
from playground.cluster.errors import ClusterError
from playground.cluster.objects import (
    Container,
    ObjectMeta,
    Pod,
    PodSpec,
    ValidationError,
    host_network_defaults,
)
from playground.cluster.pod_template import SPEC_FIELDS, PodTemplate, split_spec
from playground.cluster.replicaset import ReplicaSet, same_template, without_hash
from playground.cluster.statefulset import StatefulSet, validate_stateful_set
from playground.limits import LimitError, check_pod_total

ROLLOUT_SETTLES = 600   # kubectl rollout status gives up after this many lab seconds here


class Workloads:
    """Needs the Cluster's api, network, timers and settle()."""

    def _workload_controllers(self) -> list:
        clock = self._lab_time
        self.replica_set_controller = ReplicaSetController(self.api, self.network.rng,
                                                           self.timers, clock)
        self.deployment_controller = DeploymentController(self.api)
        return [self.replica_set_controller, self.deployment_controller,
                DaemonSetController(self.api, self.network.rng, self.timers, clock),
                StatefulSetController(self.api, clock),
                GarbageCollector(self.api, clock), PodTermination(self.api, self.timers, clock),
                NodeLifecycleController(self.api, self.timers, clock)]

    def _lab_time(self) -> float:
        return self.network.clock

    async def start_workloads(self) -> None:
        """Start the workload controllers a restore held back, at the saved lab's clock: they
        find what they left, and change nothing until the clock moves on."""
        held, self.held_workloads = self.held_workloads, []
        for controller in held:
            controller.start()
        await self.settle(tick=False)

    # deployments

    async def add_deployment(self, name: str, containers: list[Container], replicas: int = 1,
                             labels: dict[str, str] | None = None,
                             namespace: str = "default", selector: dict[str, str] | None = None,
                             **spec) -> Deployment:
        labels = dict(labels or {"app": name})
        template_spec, spec = split_spec(spec)
        containers = host_network_defaults(containers, template_spec.get("host_network", False))
        deployment = Deployment(ObjectMeta(name, namespace), replicas, dict(selector or labels),
                                PodTemplate(labels, containers, **template_spec), **spec)
        self._check_deployment(deployment)
        self.check_namespace(namespace)
        if self.api.peek("Deployment", namespace, name) is not None:
            raise ClusterError(f'deployment "{namespace}/{name}" already exists')
        self.check_room(deployment, replicas)
        self.api.create(deployment)
        await self._converge(deployment, previous=None)
        return self.api.get("Deployment", namespace, name)

    def _check_deployment(self, deployment: Deployment) -> None:
        try:
            validate_deployment(deployment)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        self.check_namespace(deployment.metadata.namespace)

    def check_namespace(self, namespace: str) -> None:
        """The NamespaceLifecycle admission plugin: no object in a namespace that is not
        there (the API server makes the system namespaces itself)."""
        if not self.has_namespace(namespace):
            raise ClusterError(f'namespaces "{namespace}" not found')

    def find_deployment(self, name: str, namespace: str = "default") -> Deployment:
        return self._deployment(name, namespace)

    def _deployment(self, name: str, namespace: str) -> Deployment:
        current = self.api.peek("Deployment", namespace, name)
        if current is None:
            raise ClusterError(f'deployment "{namespace}/{name}" not found')
        return current

    async def scale(self, name: str, replicas: int, namespace: str = "default") -> Deployment:
        current = self._deployment(name, namespace)
        if replicas < 0:
            raise ClusterError(f"deployment {current.key}: spec.replicas: must be greater than "
                           "or equal to 0")
        self.check_room(current, replicas - len(
            [p for p in self.owned_pods(current) if not p.terminating]))
        previous = current.replicas

        def edit(stored: Deployment) -> None:
            stored.replicas = replicas
        self.api.change("Deployment", namespace, name, edit)
        await self._converge(current, previous)
        await self.finish_terminations()
        return self.api.get("Deployment", namespace, name)

    async def update_deployment(self, name: str, namespace: str = "default",
                                containers: list[Container] | None = None,
                                labels: dict[str, str] | None = None,
                                selector: dict[str, str] | None = None,
                                **spec) -> Deployment:
        """A new pod template or spec (kubectl set image, patch, apply): the controller rolls
        it out; this returns after the first step, as kubectl returns at once."""
        current = self._deployment(name, namespace)
        changed = self.api.get("Deployment", namespace, name)
        template = changed.template
        if containers is not None:
            template.containers = containers
        if labels is not None:
            template.labels = dict(labels)
        if selector is not None:
            changed.selector = dict(selector)
        for key, value in spec.items():
            setattr(template if key in SPEC_FIELDS else changed, key, value)
        template.containers = host_network_defaults(template.containers, template.host_network)
        if changed.selector != current.selector:
            raise ClusterError(f"deployment {current.key}: spec.selector: field is immutable")
        self._check_deployment(changed)
        self.api.update(changed)
        await self.settle()
        return self.api.get("Deployment", namespace, name)

    async def set_image(self, name: str, images: dict[str, str],
                        namespace: str = "default") -> Deployment:
        current = self._deployment(name, namespace)
        names = {c.name for c in current.template.containers}
        for container in images:
            if container != "*" and container not in names:
                raise ClusterError(f'unable to find container named "{container}"')
        containers = [Container(c.name, images.get(c.name, images.get("*", c.image)),
                                list(c.ports)) for c in current.template.containers]
        return await self.update_deployment(name, namespace, containers=containers)

    def owned_pods(self, deployment: Deployment) -> list[Pod]:
        """The pods of its ReplicaSets (terminating ones too), by name."""
        pods = [pod for rs in replica_sets_of(self.api, deployment)
                for pod in owned_by(self.api, "Pod", rs)]
        return sorted(pods, key=lambda p: p.name)

    def replica_sets(self, namespace: str | None = None) -> list[ReplicaSet]:
        return self.api.list("ReplicaSet", namespace)

    def deployments_list(self, namespace: str | None = None) -> list[Deployment]:
        return self.api.list("Deployment", namespace)

    async def delete_deployment(self, name: str, namespace: str = "default") -> None:
        self._deployment(name, namespace)
        self.api.delete("Deployment", namespace, name)
        await self.settle()
        await self.finish_terminations()

    def check_room(self, deployment: Deployment, adding: int) -> None:
        """Refuse, before anything changes, more pods than a lab holds or than the nodes its
        pods may run on have addresses left for."""
        if adding <= 0:
            return
        try:
            check_pod_total(self.api.count("Pod"), adding)
        except LimitError as error:
            raise ClusterError(f"deployment {deployment.key}: {error}") from None
        if deployment.template.host_network:   # the node's address: none of the pod CIDR
            return
        free = self.free_pod_addresses(Pod(ObjectMeta("probe", deployment.metadata.namespace),
                                           PodSpec(deployment.template.containers)),
                                       enough=adding)
        if adding > free:
            raise ClusterError(f"deployment {deployment.key}: {adding} more pods do not fit: "
                               f"the nodes they may run on have {free} pod addresses left")

    async def _converge(self, deployment: Deployment, previous: int | None) -> None:
        """Wait for the pods; if one cannot run, put the replica count back and say why (and
        the random source where it was, so the lab goes on as if nothing was asked). A pod
        no node fits stays Pending, as the API server took the Deployment: the scheduler's
        message is on it."""
        rng = self.network.rng.getstate()
        await self.settle()
        stored = self.api.peek("Deployment", deployment.metadata.namespace, deployment.name)
        owned = self.owned_pods(stored) if stored is not None else []
        stuck = [p for p in owned if p.status.phase != "Running" and not p.terminating
                 and p.status.reason != "Unschedulable"]
        if not stuck:
            return
        why = stuck[0].status.message or "a pod could not be started"
        if previous is None:
            self.api.delete("Deployment", deployment.metadata.namespace, deployment.name)
        else:
            def rollback(stored: Deployment) -> None:
                stored.replicas = previous
            self.api.change("Deployment", deployment.metadata.namespace, deployment.name,
                            rollback)
        await self.settle()
        await self.finish_terminations()
        self.network.rng.setstate(rng)
        raise ClusterError(f"deployment {deployment.key}: pod {stuck[0].name} cannot run: {why}")

    # daemon sets

    async def add_daemon_set(self, daemon_set: DaemonSet) -> DaemonSet:
        template = daemon_set.template
        template.containers = host_network_defaults(template.containers, template.host_network)
        try:
            validate_daemon_set(daemon_set)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        namespace, name = daemon_set.metadata.namespace, daemon_set.name
        self.check_namespace(namespace)
        if self.api.peek("DaemonSet", namespace, name) is not None:
            raise ClusterError(f'daemonset "{namespace}/{name}" already exists')
        self.api.create(daemon_set)
        await self.settle()
        return self.api.get("DaemonSet", namespace, name)

    async def delete_daemon_set(self, name: str, namespace: str = "default") -> None:
        if self.api.peek("DaemonSet", namespace, name) is None:
            raise ClusterError(f'daemonset "{namespace}/{name}" not found')
        self.api.delete("DaemonSet", namespace, name)
        await self.settle()
        await self.finish_terminations()

    # stateful sets

    async def add_stateful_set(self, stateful_set: StatefulSet) -> StatefulSet:
        """Create one; returns once its pods have come up in order (each a settle)."""
        template = stateful_set.template
        template.containers = host_network_defaults(template.containers, template.host_network)
        try:
            validate_stateful_set(stateful_set)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        namespace, name = stateful_set.metadata.namespace, stateful_set.name
        self.check_namespace(namespace)
        if self.api.peek("StatefulSet", namespace, name) is not None:
            raise ClusterError(f'statefulset "{namespace}/{name}" already exists')
        self.api.create(stateful_set)
        await self.settle()
        return self.api.get("StatefulSet", namespace, name)

    async def scale_stateful_set(self, name: str, replicas: int,
                                 namespace: str = "default") -> StatefulSet:
        """kubectl scale statefulset: returns when the members have come or gone, in order."""
        if self.api.peek("StatefulSet", namespace, name) is None:
            raise ClusterError(f'statefulset "{namespace}/{name}" not found')
        if replicas < 0:
            raise ClusterError(f"statefulset {namespace}/{name}: spec.replicas: must be greater "
                               "than or equal to 0")

        def edit(stored: StatefulSet) -> None:
            stored.replicas = replicas
        self.api.change("StatefulSet", namespace, name, edit)
        await self.settle()
        await self.finish_terminations()
        return self.api.get("StatefulSet", namespace, name)

    async def delete_stateful_set(self, name: str, namespace: str = "default") -> None:
        if self.api.peek("StatefulSet", namespace, name) is None:
            raise ClusterError(f'statefulset "{namespace}/{name}" not found')
        self.api.delete("StatefulSet", namespace, name)
        await self.settle()
        await self.finish_terminations()

    # rollouts

    def rollout_state(self, deployment: Deployment) -> tuple[bool, str]:
        """Whether its rollout is done, and kubectl rollout status's line for it."""
        status, wanted, quoted = deployment.status, deployment.replicas, f'"{deployment.name}"'
        new = new_replica_set(deployment, replica_sets_of(self.api, deployment))
        if new is None or status.updated_replicas < wanted:
            return False, (f"Waiting for deployment {quoted} rollout to finish: "
                           f"{status.updated_replicas} out of {wanted} new replicas have been "
                           "updated...")
        if status.replicas > status.updated_replicas:
            return False, (f"Waiting for deployment {quoted} rollout to finish: "
                           f"{status.replicas - status.updated_replicas} old replicas are "
                           "pending termination...")
        if status.available_replicas < status.updated_replicas:
            return False, (f"Waiting for deployment {quoted} rollout to finish: "
                           f"{status.available_replicas} of {status.updated_replicas} updated "
                           "replicas are available...")
        return True, f"deployment {quoted} successfully rolled out"

    async def rollout_status(self, name: str, namespace: str = "default",
                             watch: bool = True) -> str:
        """kubectl rollout status: each new line as the lab clock moves, until it is done."""
        lines: list[str] = []
        for _ in range(ROLLOUT_SETTLES):
            done, line = self.rollout_state(self._deployment(name, namespace))
            if not lines or lines[-1] != line:
                lines.append(line)
            if done or not watch:
                return "\n".join(lines) + "\n"
            await self.settle()
        raise ClusterError(f'deployment "{name}" exceeded its progress deadline')

    def rollout_history(self, name: str, namespace: str = "default") -> str:
        deployment = self._deployment(name, namespace)
        revisions = sorted(rs.revision for rs in replica_sets_of(self.api, deployment))
        rows = ["REVISION  CHANGE-CAUSE"] + [f"{r:<9} <none>" for r in revisions]
        return f"deployment.apps/{name} \n" + "\n".join(rows) + "\n\n"

    async def rollout_undo(self, name: str, namespace: str = "default",
                           to_revision: int = 0) -> str:
        """Back to a revision's template (the one before the current by default)."""
        deployment = self._deployment(name, namespace)
        found = {rs.revision: rs for rs in replica_sets_of(self.api, deployment)}
        current = deployment.revision
        if to_revision == 0:
            earlier = [r for r in found if r < current]
            if not earlier:
                raise ClusterError(f'no rollout history found for deployment "{name}"')
            to_revision = max(earlier)
        target = found.get(to_revision)
        if target is None:
            raise ClusterError(f"unable to find specified revision {to_revision} in history")
        if same_template(target, deployment):
            return (f"deployment.apps/{name} skipped rollback (current template already "
                    f"matches revision {to_revision})\n")
        template = target.template
        await self.update_deployment(name, namespace, containers=list(template.containers),
                                     labels=without_hash(template.labels),
                                     **{key: getattr(template, key) for key in SPEC_FIELDS})
        return f"deployment.apps/{name} rolled back\n"

    # pods

    async def delete_pod(self, name: str, namespace: str = "default") -> None:
        """kubectl delete pod: the pod is given its grace period, and kubectl waits for it to
        be gone (the lab's clock moves on meanwhile)."""
        pod = self.api.peek("Pod", namespace, name)
        if pod is None:
            raise ClusterError(f'pod "{namespace}/{name}" not found')
        delete_gracefully(self.api, pod, self.network.clock)
        await self.settle()
        await self.finish_terminations(pod.metadata.uid)

    def _terminating(self, uid: str | None) -> bool:
        return any(uid is None or p.metadata.uid == uid
                   for p in self.api.indexed("Pod", "terminating", True))

    async def finish_terminations(self, uid: str | None = None) -> None:
        """Move the lab clock on until the terminating pods (or the one with `uid`) are gone,
        settling at every timer on the way, so everything due meanwhile happens in order."""
        while self._terminating(uid):
            due = self.timers.next_due()
            if due is None:   # nothing will end them: a bug, not a wait
                raise ClusterError("a terminating pod has no end of its grace period")
            if due > self.network.clock + 1:
                self.network.clock = due - 1   # settle() adds the last second
            await self.settle()

    # nodes and time

    async def mark_node(self, name: str, ready: bool) -> None:
        """The node's kubelet reports it Ready or NotReady (its Ready condition)."""
        if self.api.peek("Node", "", name) is None:
            raise ClusterError(f'node "{name}" not found')

        def edit(node) -> None:
            node.status.ready = ready
        self.api.change("Node", "", name, edit)
        await self.settle()

    async def advance(self, seconds: float) -> None:
        """Let `seconds` of lab time pass, settling at every timer due on the way."""
        if not 1 <= seconds <= 86_400:
            raise ClusterError("sleep: give a number of seconds from 1 to 86400")
        target = self.network.clock + seconds
        while (due := self.timers.next_due()) is not None and due <= target:
            self.network.clock = max(self.network.clock, due - 1)
            await self.settle()
        if self.network.clock < target:
            self.network.clock = target - 1
            await self.settle()

