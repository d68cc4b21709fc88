"""Outer VXLAN flows: any source port, and a second one from a rehashed retransmission."""

from __future__ import annotations

from ipaddress import IPv4Address

from playground.net.conntrack import Tuple
from playground.verify.compare import PortMap, _same_entries

A, B = IPv4Address("172.18.0.2"), IPv4Address("172.18.0.3")


def outer(src, dst, sport):
    return (Tuple("udp", src, sport, dst, 8472), Tuple("udp", dst, 8472, src, sport))


def test_a_second_outer_port_of_the_same_nodes_is_one_flow():
    model = [outer(A, B, 50641), outer(B, A, 45040)]
    kernel = [outer(A, B, 50830), outer(A, B, 50728), outer(B, A, 49308)]
    assert _same_entries(model, kernel, PortMap(frozenset()))


def test_outer_flows_between_other_nodes_still_differ():
    model = [outer(A, B, 50641)]
    kernel = [outer(A, IPv4Address("172.18.0.4"), 50641)]
    assert not _same_entries(model, kernel, PortMap(frozenset()))
    assert not _same_entries([outer(A, B, 1), outer(B, A, 2)], [outer(A, B, 3)],
                             PortMap(frozenset()))
