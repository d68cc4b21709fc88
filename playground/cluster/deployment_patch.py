"""kubectl patch of a Deployment: a strategic merge patch (containers merged by name) turned
into the changes update_deployment makes; a field it cannot change is named."""

from __future__ import annotations

from typing import Any

from playground.cluster.deployment import Deployment
from playground.cluster.errors import ClusterError
from playground.cluster.objects import Container, ContainerPort

SPEC = {"replicas": "replicas", "minReadySeconds": "min_ready_seconds",
        "revisionHistoryLimit": "revision_history_limit"}


def _fail(path: str, problem: str):
    raise ClusterError(f"{path}: {problem}")


def _mapping(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        _fail(path, "expected a mapping")
    return value


def patch_changes(deployment: Deployment, patch: Any) -> dict:
    spec = _mapping(_mapping(patch, "patch").get("spec", {}), "spec")
    if set(patch) - {"spec"}:
        _fail(next(iter(set(patch) - {"spec"})), "only spec can be patched here")
    changes: dict[str, Any] = {}
    for key, value in spec.items():
        path = f"spec.{key}"
        if key in SPEC:
            if not isinstance(value, int) or isinstance(value, bool):
                _fail(path, "expected an integer")
            changes[SPEC[key]] = value
        elif key == "strategy":
            _strategy(_mapping(value, path), changes)
        elif key == "template":
            _template(deployment, _mapping(value, path), changes)
        elif key == "selector":
            _fail(path, "field is immutable")
        else:
            _fail(path, "cannot be patched here (replicas, strategy, minReadySeconds, "
                  "revisionHistoryLimit, template)")
    return changes


def _strategy(strategy: dict, changes: dict) -> None:
    for key, value in strategy.items():
        if key == "type":
            changes["strategy"] = value
        elif key == "rollingUpdate":
            for name, field in (("maxSurge", "max_surge"), ("maxUnavailable", "max_unavailable")):
                if name in _mapping(value, "spec.strategy.rollingUpdate"):
                    changes[field] = value[name]
        else:
            _fail(f"spec.strategy.{key}", "unknown field")


def _template(deployment: Deployment, template: dict, changes: dict) -> None:
    labels = _mapping(template.get("metadata", {}), "spec.template.metadata").get("labels")
    if labels is not None:
        merged = dict(deployment.template.labels)
        for key, value in _mapping(labels, "spec.template.metadata.labels").items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        changes["labels"] = merged
    spec = _mapping(template.get("spec", {}), "spec.template.spec")
    if "hostNetwork" in spec:   # null deletes the field: false
        value = False if spec["hostNetwork"] is None else spec["hostNetwork"]
        if not isinstance(value, bool):
            _fail("spec.template.spec.hostNetwork", "expected true or false")
        changes["host_network"] = value
    containers = spec.get("containers")
    if containers is None:
        return
    if not isinstance(containers, list):
        _fail("spec.template.spec.containers", "expected a list")
    merged = {c.name: Container(c.name, c.image, list(c.ports))
              for c in deployment.template.containers}
    for index, item in enumerate(containers):
        path = f"spec.template.spec.containers[{index}]"
        item = _mapping(item, path)
        name = item.get("name")
        if not isinstance(name, str):
            _fail(f"{path}.name", "is required (containers are merged by name)")
        container = merged.setdefault(name, Container(name, "busybox"))
        if "image" in item:
            container.image = str(item["image"])
        if "ports" in item:
            container.ports = [ContainerPort(_port(p, f"{path}.ports[{i}]"),
                                             p.get("name"), p.get("protocol", "TCP"))
                               for i, p in enumerate(item["ports"])]
    changes["containers"] = list(merged.values())


def _port(port: Any, path: str) -> int:
    number = _mapping(port, path).get("containerPort")
    if not isinstance(number, int) or isinstance(number, bool):
        _fail(f"{path}.containerPort", "expected an integer")
    return number
