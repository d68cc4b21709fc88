"""Saved objects are checked before anything is built: overlapping pod CIDRs name both
nodes, and a name read from a file is checked before any message shows it."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.ingress import Ingress, IngressBackend
from playground.cluster.objects import Node, NodeSpec, NodeStatus, ObjectMeta
from playground.cluster.restore import check_objects
from playground.cluster.service import Endpoint, EndpointPort, EndpointSlice


def node(name: str, cidr: str, ip: str) -> Node:
    return Node(ObjectMeta(name), NodeSpec(pod_cidr=cidr), NodeStatus(internal_ip=ip))


def test_disjoint_node_cidrs_pass_and_an_overlap_names_the_later_node_and_the_earlier():
    nodes = [node(f"n{i}", f"10.244.{i}.0/24", f"172.18.0.{i + 2}") for i in range(50)]
    check_objects(nodes)
    clash = node("late", "10.244.7.128/25", "172.18.1.1")
    with pytest.raises(ClusterError, match="node late: pod CIDR 10.244.7.128/25 overlaps "
                                           "10.244.7.0/24 of node n7"):
        check_objects([*nodes, clash])
    wide = node("wide", "10.244.0.0/16", "172.18.1.2")
    with pytest.raises(ClusterError, match="node n0: pod CIDR 10.244.0.0/24 overlaps "
                                           "10.244.0.0/16 of node wide"):
        check_objects([wide, *nodes])


def test_names_from_a_file_are_checked_and_never_break_the_one_line_message():
    with pytest.raises(ClusterError, match=r'The Node "n\\n1" is invalid: metadata.name'):
        check_objects([node("n\n1", "10.244.0.0/24", "172.18.0.2")])
    twice = node("a\nb", "10.244.0.0/24", "172.18.0.2")
    with pytest.raises(ClusterError) as error:
        check_objects([twice, twice])
    assert str(error.value) == "Node '/a\\nb' is listed twice"
    lost = EndpointSlice(ObjectMeta("Web_1", "default"), "default/web")
    with pytest.raises(ClusterError, match='The EndpointSlice "Web_1" is invalid'):
        check_objects([lost])


def test_a_backend_or_protocol_read_from_a_file_is_quoted_when_it_would_break_the_line():
    odd = Ingress(ObjectMeta("shop", "default"), default_backend=IngressBackend("web\nx", 80))
    with pytest.raises(ClusterError) as error:
        check_objects([odd])
    assert str(error.value).startswith(
        'The Ingress "shop" is invalid: spec.defaultBackend.service.name: Invalid value: '
        '"web\\nx": a DNS-1035 label') and "\n" not in str(error.value)
    ports = EndpointSlice(ObjectMeta("db", "default"), "default/db",
                          [Endpoint("10.0.0.9")], [EndpointPort(5432, "TCP\nUDP")])
    with pytest.raises(ClusterError) as error:
        check_objects([ports])
    assert "\n" not in str(error.value) and \
        'ports[0].protocol: Unsupported value: "TCP\\nUDP"' in str(error.value)
    address = EndpointSlice(ObjectMeta("db", "default"), "default/db", [Endpoint("10.0.0.09")])
    with pytest.raises(ClusterError, match=re.escape(
            'endpoints[0].addresses[0]: Invalid value: "10.0.0.09": must be a valid IPv4 '
            "address")):
        check_objects([address])
