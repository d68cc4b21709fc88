"""Deployment objects and the controller that keeps their replica count of pods."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from playground.cluster import validation
from playground.cluster.api import ApiServer, Event, NotFound
from playground.cluster.controllers.base import Controller
from playground.cluster.objects import (
    Container,
    Named,
    ObjectMeta,
    Pod,
    PodSpec,
    ValidationError,
    validate_pod,
)

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' safe name characters
OWNER_ANNOTATION = "playground/owner"


@dataclass
class Deployment(Named):
    metadata: ObjectMeta
    replicas: int
    selector: dict[str, str]
    template_labels: dict[str, str]
    containers: list[Container]
    kind: str = "Deployment"
    available: int = 0
    pod_names: list[str] = field(default_factory=list)

    def template_hash(self) -> str:
        text = repr((sorted(self.template_labels.items()), self.containers))
        digest = hashlib.sha256(text.encode()).digest()
        return "".join(SUFFIX_ALPHABET[b % len(SUFFIX_ALPHABET)] for b in digest[:10])


def validate_deployment(deployment: Deployment) -> None:
    meta = deployment.metadata
    validation.check("Deployment", deployment.name, validation.meta_errors(
        "Deployment", deployment.name, meta.namespace, meta.labels, meta.annotations)
        + validation.selector_errors(deployment.selector, "spec.selector.matchLabels")
        + validation.labels_errors(deployment.template_labels, "spec.template.metadata.labels")
        + validation.container_errors(deployment.containers, "spec.template.spec.containers"))
    where = f"deployment {deployment.key}"
    if deployment.replicas < 0:
        raise ValidationError(f"{where}: replicas must be 0 or more")
    if not deployment.selector:
        raise ValidationError(f"{where}: spec.selector must name at least one label")
    if any(deployment.template_labels.get(k) != v for k, v in deployment.selector.items()):
        raise ValidationError(f"{where}: spec.template labels must match spec.selector")
    # validate_pod only reads the containers: the probe can share them
    probe = Pod(ObjectMeta("probe", deployment.metadata.namespace),
                PodSpec(list(deployment.containers)))
    validate_pod(probe)


class DeploymentController(Controller):
    """Creates and deletes pods (through the API) until each Deployment has its replicas."""

    name = "deployment-controller"

    def __init__(self, api: ApiServer, rng) -> None:
        super().__init__()
        self.api = api
        self.rng = rng

    def start(self) -> None:
        self.follow(self.api.watch("Deployment"), self.on_deployment)

    def owned(self, deployment: Deployment) -> list[Pod]:
        return self.api.indexed("Pod", "owner", (deployment.metadata.namespace, deployment.key))

    def on_deployment(self, event: Event) -> None:
        deployment = event.object
        pods = sorted(self.owned(deployment), key=lambda p: p.metadata.created_at)
        wanted = 0 if event.type == "DELETED" else deployment.replicas
        for pod in reversed(pods[wanted:]):  # the newest go first
            try:
                self.api.delete("Pod", pod.metadata.namespace, pod.name)
            except NotFound:
                pass
        template_hash = deployment.template_hash()
        prefix = f"{deployment.name}-{template_hash}"
        for _ in range(wanted - len(pods)):
            name = self._fresh_name(deployment.metadata.namespace, prefix)
            labels = dict(deployment.template_labels)
            labels["pod-template-hash"] = template_hash
            meta = ObjectMeta(name, deployment.metadata.namespace, labels=labels,
                              annotations={OWNER_ANNOTATION: deployment.key})
            # the pods share the stored Deployment's containers: the store never edits an
            # object in place
            self.api.create(Pod(meta, PodSpec(deployment.containers)), handed_over=True)

    def _fresh_name(self, namespace: str, prefix: str) -> str:
        while True:
            suffix = "".join(self.rng.choice(SUFFIX_ALPHABET) for _ in range(5))
            if self.api.peek("Pod", namespace, f"{prefix}-{suffix}") is None:
                return f"{prefix}-{suffix}"
