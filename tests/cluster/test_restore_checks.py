"""Saved nodes are checked before anything is built: overlapping pod CIDRs name both nodes."""

from __future__ import annotations

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.objects import Node, NodeSpec, NodeStatus, ObjectMeta
from playground.cluster.restore import check_objects


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
