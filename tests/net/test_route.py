from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground.net.link import Ethernet
from playground.net.netns import Namespace
from playground.net.route import Route, RouteError, RouteTable


def net(text):
    return IPv4Network(text)


def test_longest_prefix_wins():
    table = RouteTable("main")
    table.add(Route(net("0.0.0.0/0"), dev="eth0", via=IPv4Address("172.18.0.1")))
    table.add(Route(net("10.244.0.0/16"), dev="eth0", via=IPv4Address("172.18.0.9")))
    table.add(Route(net("10.244.2.0/24"), dev="eth0", via=IPv4Address("172.18.0.3")))
    assert table.lookup(IPv4Address("10.244.2.7")).via == IPv4Address("172.18.0.3")
    assert table.lookup(IPv4Address("10.244.9.7")).via == IPv4Address("172.18.0.9")
    assert table.lookup(IPv4Address("8.8.8.8")).via == IPv4Address("172.18.0.1")


def test_lower_metric_wins_and_duplicates_are_refused():
    table = RouteTable("main")
    table.add(Route(net("10.0.0.0/8"), dev="a", metric=100))
    table.add(Route(net("10.0.0.0/8"), dev="b", metric=50))
    assert table.lookup(IPv4Address("10.1.1.1")).dev == "b"
    with pytest.raises(RouteError, match="File exists"):
        table.add(Route(net("10.0.0.0/8"), dev="c", metric=50))


def test_no_route():
    assert RouteTable("main").lookup(IPv4Address("1.1.1.1")) is None


@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), min_size=1,
                max_size=30), st.integers(0, 2**32 - 1))
def test_lookup_agrees_with_a_linear_scan(prefixes, target):
    table = RouteTable("main")
    routes = {}
    for value, length in prefixes:
        prefix = IPv4Network((value, length), strict=False)
        if prefix not in routes:
            routes[prefix] = Route(prefix, dev=f"d{len(routes)}")
            table.add(routes[prefix])
    address = IPv4Address(target)
    matching = [p for p in routes if address in p]
    expected = max(matching, key=lambda p: p.prefixlen) if matching else None
    found = table.lookup(address)
    assert (found.prefix if found else None) == expected


def test_ip_route_text_matches_the_real_tool():
    ns = Namespace("n")
    ns.add_device(Ethernet("eth0", "02:42:ac:12:00:02"))
    ns.add_address("eth0", "172.18.0.2/16")
    ns.add_route(Route(net("0.0.0.0/0"), dev="eth0", via=IPv4Address("172.18.0.1")))
    ns.add_route(Route(net("10.244.2.0/24"), dev="eth0", via=IPv4Address("172.18.0.3")))
    assert ns.ip_route() == (
        "default via 172.18.0.1 dev eth0\n"
        "10.244.2.0/24 via 172.18.0.3 dev eth0\n"
        "172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.2\n"
    )


def test_gateway_must_be_reachable():
    ns = Namespace("n")
    ns.add_device(Ethernet("eth0", "02:42:ac:12:00:02"))
    ns.add_address("eth0", "172.18.0.2/16")
    with pytest.raises(RouteError, match="Nexthop has invalid gateway"):
        ns.add_route(Route(net("10.0.0.0/8"), dev="eth0", via=IPv4Address("192.168.1.1")))
    ns.add_route(Route(net("10.0.0.0/8"), dev="eth0", via=IPv4Address("192.168.1.1"),
                       onlink=True))
    assert "10.0.0.0/8 via 192.168.1.1 dev eth0 onlink" in ns.ip_route()


def test_source_address_selection_prefers_the_route_src():
    ns = Namespace("n")
    ns.add_device(Ethernet("eth0", "02:42:ac:12:00:02"))
    ns.add_address("eth0", "10.244.1.5/24")
    ns.add_address("eth0", "10.9.0.5/24")
    ns.add_route(Route(net("0.0.0.0/0"), dev="eth0", via=IPv4Address("10.244.1.1")))
    assert ns.route_lookup(IPv4Address("8.8.8.8")).src == IPv4Address("10.244.1.5")
    assert ns.route_lookup(IPv4Address("10.9.0.7")).src == IPv4Address("10.9.0.5")
