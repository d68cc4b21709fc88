"""Random objects, with values drawn from small pools so that many are shared: written as
tables and read back, they are equal, field for field and type for type."""

from __future__ import annotations

import dataclasses

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.cluster.columns import decode_tables, encode_tables
from playground.cluster.objects import (
    Container,
    ContainerPort,
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
from playground.cluster.service import Service, ServicePort, ServiceSpec, ServiceStatus

TEXT = st.sampled_from(["", "a", "web", "node-1", "10.244.0.5"])
MAYBE = st.none() | TEXT
LABELS = st.dictionaries(st.sampled_from(["app", "tier", "x"]), TEXT, max_size=2)
META = st.builds(ObjectMeta, name=TEXT, namespace=TEXT, labels=LABELS, annotations=LABELS,
                 uid=TEXT, resource_version=st.integers(0, 2**40),
                 created_at=st.sampled_from([0.0, 1.0, 2.5, 1e9]),
                 deletion_requested=st.booleans())
PORT = st.builds(ContainerPort, st.sampled_from([1, 80, 65535]), MAYBE,
                 st.sampled_from(["TCP", "UDP"]))
CONTAINERS = st.lists(st.builds(Container, TEXT, TEXT, st.lists(PORT, max_size=2)),
                      max_size=2)
POD = st.builds(Pod, META, st.builds(PodSpec, CONTAINERS, MAYBE, st.lists(
    st.builds(Toleration, TEXT, TEXT, TEXT), max_size=1)),
    st.builds(PodStatus, TEXT, MAYBE, MAYBE, TEXT, TEXT))
NODE = st.builds(Node, META, st.builds(NodeSpec, MAYBE, st.lists(
    st.builds(Taint, TEXT, TEXT, TEXT), max_size=1)),
    st.builds(NodeStatus, MAYBE, MAYBE, st.booleans()))
SERVICE = st.builds(Service, META, st.builds(
    ServiceSpec, st.lists(st.builds(ServicePort, st.sampled_from([1, 80]),
                                    st.none() | st.sampled_from([80, "80", "http"]),
                                    st.sampled_from(["TCP", "UDP"]), MAYBE,
                                    st.none() | st.sampled_from([30000, 32767])), max_size=2),
    LABELS, TEXT, MAYBE, MAYBE), st.builds(ServiceStatus, st.lists(TEXT, max_size=1)))


def typed(value):
    """A value with every leaf's type beside it: 1 and 1.0 and True are told apart."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, [typed(getattr(value, f.name))
                                       for f in dataclasses.fields(value)])
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, dict):
        return [(key, typed(item)) for key, item in value.items()]
    return (type(value).__name__, value)


@settings(max_examples=200, deadline=None)
@given(nodes=st.lists(NODE, max_size=6), services=st.lists(SERVICE, max_size=6),
       pods=st.lists(POD, max_size=12))
def test_tables_give_back_the_objects_they_were_made_of(nodes, services, pods):
    objects = nodes + services + pods
    back = decode_tables(msgpack.unpackb(msgpack.packb(encode_tables(objects))))
    assert [typed(obj) for obj in back] == [typed(obj) for obj in objects]
