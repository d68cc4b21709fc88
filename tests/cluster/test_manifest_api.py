"""Manifests as the API server takes them: generateName, kind List, int-or-string ports,
and what it refuses (a namespace that is not there, externalTrafficPolicy on a ClusterIP)."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import web
from playground.cluster.manifests import apply_files
from playground.cluster.replicaset import NAME_ALPHABET
from playground.cluster.service import ServicePort


def manifest(tmp_path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return str(path)


async def test_generate_name_gets_five_random_characters(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {generateName: probe-}
spec: {containers: [{name: c, image: busybox}]}
""")])
    (pod,) = [p for p in lab.pods() if p.name.startswith("probe-")]
    assert re.fullmatch(rf"probe-[{NAME_ALPHABET}]{{5}}", pod.name)


async def test_neither_name_nor_generate_name_is_refused(lab, tmp_path):
    with pytest.raises(ClusterError, match=r"document 1 \(Pod/None\): metadata.name: Required "
                                           "value: name or generateName is required"):
        await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {labels: {a: b}}
spec: {containers: [{name: c}]}
""")])


async def test_a_list_applies_each_item(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: one}, spec: {containers: [{name: c}]}}
- {apiVersion: v1, kind: Pod, metadata: {name: two}, spec: {containers: [{name: c}]}}
""")])
    assert {"one", "two"} <= {p.name for p in lab.pods()}


async def test_a_bad_list_item_is_named(lab, tmp_path):
    with pytest.raises(ClusterError, match=re.escape(
            'document 1 (List) items[1] (Widget/x): no matches for kind "Widget" in '
            'version "v1"')):
        await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: one}, spec: {containers: [{name: c}]}}
- {apiVersion: v1, kind: Widget, metadata: {name: x}}
""")])
    assert lab.api.peek("Pod", "default", "one") is None   # nothing of the file applied


async def test_a_named_target_port_and_a_number_in_quotes(lab, tmp_path):
    await lab.add_deployment("shop", web("shop"))
    service = await lab.add_service("shop", [ServicePort(80, "http")], selector={"app": "shop"})
    assert service.spec.ports[0].target_port == "http"
    with pytest.raises(ClusterError, match=re.escape(
            'spec.ports[0].targetPort: Invalid value: "8080": must contain at least one '
            "letter (a-z)")):
        await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: quoted}
spec: {selector: {app: shop}, ports: [{port: 80, targetPort: "8080"}]}
""")])


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "Service"])
async def test_an_object_in_a_namespace_that_is_not_there_is_refused(lab, tmp_path, kind):
    body = {"Pod": "spec: {containers: [{name: c}]}",
            "Deployment": "spec: {selector: {matchLabels: {a: b}}, template: {metadata: "
                          "{labels: {a: b}}, spec: {containers: [{name: c}]}}}",
            "Service": "spec: {ports: [{port: 80}]}"}[kind]
    with pytest.raises(ClusterError, match='namespaces "nowhere" not found'):
        await apply_files(lab, [manifest(tmp_path, f"""
apiVersion: {"apps/v1" if kind == "Deployment" else "v1"}
kind: {kind}
metadata: {{name: x, namespace: nowhere}}
{body}
""")])
    await apply_files(lab, [manifest(tmp_path, f"""
apiVersion: v1
kind: Namespace
metadata: {{name: nowhere}}
---
apiVersion: {"apps/v1" if kind == "Deployment" else "v1"}
kind: {kind}
metadata: {{name: x, namespace: nowhere}}
{body}
""")])
    assert lab.api.peek(kind, "nowhere", "x") is not None


async def test_external_traffic_policy_on_a_cluster_ip_service_is_refused(lab, tmp_path):
    with pytest.raises(ClusterError, match=re.escape(
            'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
            "externally-accessible services")):
        await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: inside}
spec: {externalTrafficPolicy: Local, ports: [{port: 80}]}
""")])
    from playground.commands.base import ShellError
    from playground.shell import Shell
    await lab.add_service("inside", [ServicePort(80)], selector={"app": "web"})
    with pytest.raises(ShellError, match="may only be set for externally-accessible"):
        await Shell(lab).run("kubectl patch svc inside -p "
                             "'{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'")


SELECTED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
    matchExpressions:
    - {key: tier, operator: In, values: [web, edge]}
    - {key: canary, operator: DoesNotExist}
  template:
    metadata: {labels: {app: shop, tier: TIER}}
    spec: {containers: [{name: shop, image: nginx}]}
"""


async def test_match_expressions_select_and_show_as_kubectl_shows_them(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, SELECTED.replace("TIER", "web"))])
    (rs,) = lab.replica_sets("default")
    assert [e.operator for e in rs.selector_expressions] == ["In", "DoesNotExist"]
    from playground.cluster.tables import replicasets_table
    selector = replicasets_table(lab, "default", True).splitlines()[1].split("   ")[-1]
    hash_ = rs.metadata.labels["pod-template-hash"]
    # sorted by key, as labels.Selector prints itself
    assert selector.strip() == f"app=shop,!canary,pod-template-hash={hash_},tier in (edge,web)"
    assert len(lab.owned_pods(lab.api.peek("Deployment", "default", "shop"))) == 2


@pytest.mark.parametrize("change,message", [
    ("TIER", "`selector` does not match template `labels`"),
    ("operator: In, values: [web, edge]", "matchExpressions[0].operator: Invalid value: "
                                          "\"Near\": not a valid selector operator"),
    ("operator: DoesNotExist}", "matchExpressions[1].values: Forbidden: may not be "
                                "specified when `operator` is 'Exists' or 'DoesNotExist'"),
])
async def test_bad_selectors_are_refused_with_the_field(lab, tmp_path, change, message):
    text = SELECTED.replace("TIER", "web")
    if change == "TIER":
        text = SELECTED.replace("TIER", "db")
    elif "In," in change:
        text = text.replace(change, "operator: Near, values: [web]")
    else:
        text = text.replace(change, "operator: DoesNotExist, values: [x]}")
    with pytest.raises(ClusterError, match=re.escape(message)):
        await apply_files(lab, [manifest(tmp_path, text)])
