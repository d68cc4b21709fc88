"""StatefulSet objects: pods with stable names (web-0, web-1, ...) started in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.objects import (
    LabelSelectorRequirement,
    Named,
    ObjectMeta,
    Pod,
    ValidationError,
    validate_name,
    validate_pod,
    validate_selector,
)
from playground.cluster.pod_template import PodTemplate
from playground.cluster.validation import check

POLICIES = ("OrderedReady", "Parallel")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


@dataclass
class StatefulSetStatus:
    replicas: int = 0
    ready_replicas: int = 0
    updated_replicas: int = 0


@dataclass
class StatefulSet(Named):
    metadata: ObjectMeta
    replicas: int
    service_name: str
    selector: dict[str, str]
    template: PodTemplate
    selector_expressions: list[LabelSelectorRequirement] = field(default_factory=list)
    pod_management_policy: str = "OrderedReady"
    status: StatefulSetStatus = field(default_factory=StatefulSetStatus)
    kind: str = "StatefulSet"


def validate_stateful_set(sts: StatefulSet) -> None:
    validate_name("namespace", sts.metadata.namespace)
    validate_name("statefulset", sts.name)
    where = f"statefulset {sts.key}"
    if sts.replicas < 0:
        raise ValidationError(f"{where}: spec.replicas: must be greater than or equal to 0")
    if sts.pod_management_policy not in POLICIES:
        raise ValidationError(f"{where}: spec.podManagementPolicy: Unsupported value: "
                              f"\"{sts.pod_management_policy}\": supported values: "
                              "\"OrderedReady\", \"Parallel\"")
    if sts.service_name:
        validate_name("service", sts.service_name)
    validate_selector(where, sts.selector, sts.selector_expressions, sts.template.labels)
    check("StatefulSet", sts.name, sts.template.errors())
    validate_pod(Pod(ObjectMeta("probe", sts.metadata.namespace), sts.template.pod_spec()))
