"""API objects as a table per kind: they come back equal, shared values come back shared,
and a broken table is refused with its path."""

from __future__ import annotations

import copy

import msgpack
import pytest

from playground.cluster.codec import DecodeError, encode
from playground.cluster.columns import decode_tables, encode_tables, tables_from_maps
from playground.cluster.deployment import Deployment, DeploymentStatus
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.objects import (
    Container,
    ContainerPort,
    KubeNamespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    Taint,
    Toleration,
)
from playground.cluster.pod_template import PodTemplate
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
)

WEB = [Container("web", "nginx", [ContainerPort(80, "http")])]


def pod(name: str, node: str, ip: str, containers=WEB, **meta) -> Pod:
    return Pod(ObjectMeta(name, "default", uid=f"uid-{name}", resource_version=7,
                          created_at=3.0, **meta),
               PodSpec(copy.deepcopy(containers), node), PodStatus("Running", ip, "172.18.0.2"))


def objects() -> list:
    """One of each kind, with the fields a lab fills in, and pods sharing a template."""
    return [
        KubeNamespace(ObjectMeta("shop")),
        Node(ObjectMeta("n1", labels={"node-role.kubernetes.io/control-plane": ""}),
             NodeSpec("10.244.0.0/24", [Taint("node-role.kubernetes.io/control-plane")]),
             NodeStatus("172.18.0.2", "203.0.113.10", True)),
        Node(ObjectMeta("n2"), NodeSpec("10.244.1.0/24"), NodeStatus("172.18.0.3")),
        Service(ObjectMeta("web", "default"),
                ServiceSpec([ServicePort(80, "http", name="http", node_port=30080),
                             ServicePort(53, 53, "UDP", "dns", 30053)],
                            {"app": "web"}, "LoadBalancer", "10.96.0.10",
                            external_traffic_policy="Local"),
                ServiceStatus(["198.51.100.1"])),
        Service(ObjectMeta("db", "default"), ServiceSpec([ServicePort(5432)], {},
                                                         cluster_ip="10.96.0.11")),
        EndpointSlice(ObjectMeta("db-1", "default"), "default/db",
                      [Endpoint("10.0.0.9"), Endpoint("10.0.0.10", False, "n1", "x/y")],
                      [EndpointPort(5432)]),
        *[pod(f"web-{i}", f"n{1 + i % 2}", f"10.244.{i % 2}.{10 + i}",
              labels={"app": "web"}, annotations={"playground/owner": "default/web"})
          for i in range(6)],
        pod("client", "n1", "10.244.0.99", [Container("client", "curl")]),
        pod("tolerant", "n1", "10.244.0.98", deletion_requested=True),
        Deployment(ObjectMeta("web", "default"), 6, {"app": "web"},
                   PodTemplate({"app": "web"}, WEB), status=DeploymentStatus(6, 6, 6, 6)),
        Ingress(ObjectMeta("shop", "default"),
                [IngressRule([IngressPath(IngressBackend("web", "http"), "/blog")], "a.test")],
                IngressBackend("web", 80)),
        Ingress(ObjectMeta("plain", "default"), [IngressRule([IngressPath(
            IngressBackend("db", 5432))])]),
    ]


def round_trip(objs: list) -> list:
    return decode_tables(msgpack.unpackb(msgpack.packb(encode_tables(objs))))


def test_every_kind_comes_back_equal_and_in_the_order_of_its_kind():
    objs = objects()
    objs[-4].spec.tolerations = [Toleration("dedicated", effect="NoSchedule")]
    assert round_trip(objs) == objs


def test_pods_of_one_template_share_their_containers_labels_and_node_name():
    back = [obj for obj in round_trip(objects()) if obj.kind == "Pod"]
    web = back[:6]
    assert all(p.spec.containers is web[0].spec.containers for p in web)
    assert all(p.metadata.labels is web[0].metadata.labels for p in web)
    assert back[6].spec.containers is not web[0].spec.containers
    assert back[6].metadata.labels == {}
    assert back[6].spec.tolerations is not back[7].spec.tolerations  # defaults: each its own


def test_defaults_are_left_out_one_value_is_written_once_and_distinct_ones_plainly():
    columns = encode_tables(objects())["Pod"]["columns"]
    assert "spec.tolerations" not in columns and "status.reason" not in columns
    assert columns["status.phase"] == {"same": "Running"}
    assert columns["metadata.name"] == [f"web-{i}" for i in range(6)] + ["client", "tolerant"]
    assert columns["metadata.deletion_requested"] == {"values": [False, True],
                                                       "rows": [0] * 7 + [1]}
    assert columns["spec.containers"]["rows"] == [0] * 6 + [1, 0]


def test_no_objects_gives_no_tables():
    assert encode_tables([]) == {} and decode_tables({}) == []


def test_version_1_maps_become_tables_of_the_same_objects():
    assert decode_tables(tables_from_maps([encode(obj) for obj in objects()])) == objects()


def v1(change):
    maps = [encode(obj) for obj in objects()]
    change(maps)
    return maps


V1_SHAPES = {
    "not a map": (lambda m: m.append(7), "objects[17]: expected a map, got int"),
    "unknown kind": (lambda m: m.append({"kind": "Lease"}),
                     "objects[17]: kind 'Lease' is not one a lab holds"),
    "unknown nested field": (lambda m: m[6]["spec"].update(host_pid=True),
                             "objects[6].spec: unknown field 'host_pid'"),
    "record not a map": (lambda m: m[6].update(status=[]),
                         "objects[6].status: expected a map, got list"),
    "required field missing": (lambda m: m[6]["metadata"].pop("name"),
                               "objects[6].metadata.name: is required"),
}


@pytest.mark.parametrize("case", V1_SHAPES, ids=str)
def test_a_version_1_object_of_the_wrong_shape_is_named_by_its_index(case):
    change, expected = V1_SHAPES[case]
    with pytest.raises(DecodeError) as error:
        decode_tables(tables_from_maps(v1(change)))
    assert str(error.value).startswith(expected)


def tables(change) -> dict:
    made = msgpack.unpackb(msgpack.packb(encode_tables(objects())))
    change(made)
    return made


def pods(made: dict) -> dict:
    return made["Pod"]["columns"]


BROKEN = {
    "not a map": (lambda t: t.clear() or t.update(Pod=[]),
                  "objects.Pod: expected a map of count and columns"),
    "unknown kind": (lambda t: t.update(Lease={"count": 0, "columns": {}}),
                     "objects.Lease: 'Lease' is not a kind a lab holds"),
    "a kind that would break the line": (lambda t: t.update({"Pod\nx": {}}),
                                         "objects['Pod\\nx']: 'Pod\\nx' is not a kind"),
    "a map key that would break the line": (
        lambda t: pods(t)["metadata.labels"]["values"][0].update({"a\nb": 1}),
        "objects.Pod[0].metadata.labels['a\\nb']: expected str, got int"),
    "count not a number": (lambda t: t["Pod"].update(count=True),
                           "objects.Pod.count: expected a whole number"),
    "negative count": (lambda t: t["Pod"].update(count=-1),
                       "objects.Pod.count: expected a whole number"),
    "count beyond the columns": (lambda t: t["Pod"].update(count=9),
                                 "objects.Pod.metadata.name: expected 9 values, got 8"),
    "columns not a map": (lambda t: t["Pod"].update(columns=[]),
                          "objects.Pod.columns: expected a map, got list"),
    "unknown column": (lambda t: pods(t).update({"spec.host_pid": [True] * 8}),
                       "objects.Pod: unknown field 'spec.host_pid'"),
    "required column missing": (lambda t: pods(t).pop("spec.containers"),
                                "objects.Pod.spec.containers: is required"),
    "value of the wrong type": (lambda t: pods(t)["metadata.name"].__setitem__(3, 7),
                                "objects.Pod[3].metadata.name: expected str, got int"),
    "optional value of the wrong type": (
        lambda t: pods(t).update({"status.pod_ip": {"same": 7}}),
        "objects.Pod[0].status.pod_ip: expected str or nothing, got int"),
    "shared value of the wrong type": (
        lambda t: pods(t)["spec.containers"]["values"].__setitem__(1, "curl"),
        "objects.Pod[6].spec.containers: expected a list, got str"),
    "shared value deep inside": (
        lambda t: pods(t)["spec.containers"]["values"][0][0]["ports"][0].update(
            container_port="80"),
        "objects.Pod[0].spec.containers[0].ports[0].container_port: expected int, got str"),
    "a map of the wrong values": (
        lambda t: pods(t)["metadata.labels"]["values"][0].update(app=1),
        "objects.Pod[0].metadata.labels.app: expected str, got int"),
    "an unused shared value": (
        lambda t: pods(t)["spec.containers"]["values"].append(5),
        "objects.Pod.spec.containers.values[2]: expected a list, got int"),
    "index out of range": (lambda t: pods(t)["spec.containers"]["rows"].__setitem__(2, 2),
                           "objects.Pod.spec.containers.rows: expected indexes into the 2"),
    "index not a number": (lambda t: pods(t)["spec.containers"]["rows"].__setitem__(2, "0"),
                           "objects.Pod.spec.containers.rows: expected indexes"),
    "too few indexes": (lambda t: pods(t)["spec.containers"]["rows"].pop(),
                        "objects.Pod.spec.containers.rows: expected a list of 8 indexes"),
    "values not a list": (lambda t: pods(t)["spec.containers"].update(values={}),
                          "objects.Pod.spec.containers.values: expected a list, got dict"),
    "column of no known form": (lambda t: pods(t).update({"status.phase": {"all": "x"}}),
                                "objects.Pod.status.phase: expected a list of values, or a map"),
    "record spread wrongly": (lambda t: pods(t).update({"spec": [None] * 8}),
                              "objects.Pod: unknown field 'spec'"),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_a_broken_table_is_refused_with_the_path_of_what_is_wrong(case):
    change, expected = BROKEN[case]
    with pytest.raises(DecodeError) as error:
        decode_tables(tables(change))
    message = str(error.value)
    assert "\n" not in message and message.startswith(expected)


def test_whole_numbers_in_a_column_of_seconds_come_back_as_floats():
    made = tables(lambda t: pods(t).update({"metadata.created_at": [1] * 8}))
    assert {p.metadata.created_at.__class__ for p in decode_tables(made) if p.kind == "Pod"} \
        == {float}
