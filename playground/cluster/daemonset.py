"""DaemonSet objects: a pod template run once on every node it fits."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.objects import (
    LabelSelectorRequirement,
    Named,
    ObjectMeta,
    Pod,
    Toleration,
    validate_name,
    validate_pod,
    validate_selector,
)
from playground.cluster.pod_template import PodTemplate
from playground.cluster.validation import check

REVISION_LABEL = "controller-revision-hash"   # the template's hash on each pod
# what the DaemonSet controller adds to its pods' tolerations (util.AddOrUpdateDaemonPodTolerations)
DAEMON_TOLERATIONS = [Toleration("node.kubernetes.io/not-ready", "Exists", "NoExecute"),
                      Toleration("node.kubernetes.io/unreachable", "Exists", "NoExecute"),
                      Toleration("node.kubernetes.io/unschedulable", "Exists", "NoSchedule")]


@dataclass
class DaemonSetStatus:
    desired_number_scheduled: int = 0
    current_number_scheduled: int = 0
    number_ready: int = 0
    updated_number_scheduled: int = 0
    number_available: int = 0


@dataclass
class DaemonSet(Named):
    metadata: ObjectMeta
    selector: dict[str, str]
    template: PodTemplate
    selector_expressions: list[LabelSelectorRequirement] = field(default_factory=list)
    status: DaemonSetStatus = field(default_factory=DaemonSetStatus)
    kind: str = "DaemonSet"


def validate_daemon_set(ds: DaemonSet) -> None:
    validate_name("namespace", ds.metadata.namespace)
    validate_name("daemonset", ds.name)
    validate_selector(f"daemonset {ds.key}", ds.selector, ds.selector_expressions,
                      ds.template.labels)
    check("DaemonSet", ds.name, ds.template.errors())
    validate_pod(Pod(ObjectMeta("probe", ds.metadata.namespace), ds.template.pod_spec()))
