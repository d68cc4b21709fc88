"""Deployment objects and the checks the API server makes on them; the deployment controller
(controllers/deployment.py) runs them through ReplicaSets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playground.cluster import validation
from playground.cluster.objects import (
    LabelSelectorRequirement,
    Named,
    ObjectMeta,
    Pod,
    ValidationError,
    validate_pod,
    validate_selector,
)
from playground.cluster.pod_template import PodTemplate
from playground.cluster.replicaset import REVISION
from playground.numbers import is_whole

STRATEGIES = ("RollingUpdate", "Recreate")
PERCENT = re.compile(r"^(0|[1-9][0-9]*)%$")


@dataclass
class DeploymentStatus:
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0


@dataclass
class Deployment(Named):
    metadata: ObjectMeta
    replicas: int
    selector: dict[str, str]
    template: PodTemplate
    kind: str = "Deployment"
    strategy: str = "RollingUpdate"
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"
    min_ready_seconds: int = 0
    revision_history_limit: int = 10
    status: DeploymentStatus = field(default_factory=DeploymentStatus)
    selector_expressions: list[LabelSelectorRequirement] = field(default_factory=list)

    @property
    def revision(self) -> int:
        text = self.metadata.annotations.get(REVISION, "0")
        return int(text) if is_whole(text) and len(text) < 19 else 0


def scaled_value(value: int | str, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: a count, or a percentage of `total`."""
    if isinstance(value, int):
        return value
    percent = int(value[:-1])
    whole, rest = divmod(percent * total, 100)
    return whole + (1 if round_up and rest else 0)


def fenceposts(deployment: Deployment) -> tuple[int, int]:
    """deploymentutil.ResolveFenceposts: maxSurge rounds up, maxUnavailable down, and both
    0 would never move, so maxUnavailable becomes 1."""
    surge = scaled_value(deployment.max_surge, deployment.replicas, True)
    unavailable = scaled_value(deployment.max_unavailable, deployment.replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _check_int_or_percent(where: str, path: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError(f"{where}: {path}: must be an integer or a percentage")
    if isinstance(value, int) and value < 0:
        raise ValidationError(f"{where}: {path}: must be greater than or equal to 0")
    if isinstance(value, str) and (len(value) > 12 or not PERCENT.match(value)):
        raise ValidationError(f"{where}: {path}: a valid percent string must be a numeric "
                              "string followed by an ending '%' (e.g. '1%',  or '93%')")


def validate_deployment(deployment: Deployment) -> None:
    meta = deployment.metadata
    validation.check("Deployment", deployment.name, validation.meta_errors(
        "Deployment", deployment.name, meta.namespace, meta.labels, meta.annotations)
        + validation.selector_errors(deployment.selector, "spec.selector.matchLabels")
        + validation.labels_errors(deployment.template.labels, "spec.template.metadata.labels")
        + validation.container_errors(deployment.template.containers,
                                     "spec.template.spec.containers")
        + deployment.template.errors())
    where = f"deployment {deployment.key}"
    if deployment.replicas < 0:
        raise ValidationError(f"{where}: spec.replicas: must be greater than or equal to 0")
    validate_selector(where, deployment.selector, deployment.selector_expressions,
                      deployment.template.labels)
    if deployment.strategy not in STRATEGIES:
        raise ValidationError(f"{where}: spec.strategy.type: Unsupported value: "
                              f"\"{deployment.strategy}\": supported values: "
                              "\"Recreate\", \"RollingUpdate\"")
    for path, value in (("spec.strategy.rollingUpdate.maxSurge", deployment.max_surge),
                        ("spec.strategy.rollingUpdate.maxUnavailable",
                         deployment.max_unavailable)):
        _check_int_or_percent(where, path, value)
    if isinstance(deployment.max_unavailable, str) and int(deployment.max_unavailable[:-1]) > 100:
        raise ValidationError(f"{where}: spec.strategy.rollingUpdate.maxUnavailable: must not "
                              "be greater than 100%")
    if scaled_value(deployment.max_surge, 100, True) == 0 and \
            scaled_value(deployment.max_unavailable, 100, False) == 0:
        raise ValidationError(f"{where}: spec.strategy.rollingUpdate.maxUnavailable: may not "
                              "be 0 when `maxSurge` is 0")
    for path, value in (("spec.minReadySeconds", deployment.min_ready_seconds),
                        ("spec.revisionHistoryLimit", deployment.revision_history_limit)):
        if value < 0:
            raise ValidationError(f"{where}: {path}: must be greater than or equal to 0")
    # validate_pod only reads the containers: the probe can share them
    probe = Pod(ObjectMeta("probe", deployment.metadata.namespace),
                deployment.template.pod_spec())
    validate_pod(probe)
