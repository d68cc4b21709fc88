"""Sets and maps: one probe of a hash or a binary search of intervals, timeouts."""

from ipaddress import IPv4Address

from playground.net.nftables.sets import Element, NftSet
from playground.net.nftables.types import TYPES, Interval

IPV4 = TYPES["ipv4_addr"]


def ip(text: str) -> int:
    return int(IPv4Address(text))


def test_an_interval_set_finds_the_range_holding_an_address():
    ranges = NftSet("r", (IPV4,), flags=("interval",))
    for low, high in (("10.0.0.0", "10.255.255.255"), ("192.168.1.1", "192.168.1.1"),
                      ("172.16.0.0", "172.16.0.255")):
        ranges.add(Element((Interval(ip(low), ip(high)),)), 0.0)
    assert ranges.lookup(ip("10.20.30.40"), 0.0) is not None
    assert ranges.lookup(ip("172.16.0.255"), 0.0) is not None
    assert ranges.lookup(ip("172.16.1.0"), 0.0) is None
    assert ranges.lookup(ip("11.0.0.0"), 0.0) is None


def test_a_concatenated_key_is_one_hash_probe():
    services = NftSet("s", (IPV4, TYPES["inet_proto"], TYPES["inet_service"]))
    services.add(Element((ip("10.96.0.10"), 17, 53)), 0.0)
    assert services.lookup((ip("10.96.0.10"), 17, 53), 0.0) is not None
    assert services.lookup((ip("10.96.0.10"), 6, 53), 0.0) is None


def test_elements_time_out_on_the_clock_and_update_restarts_them():
    seen = NftSet("a", (IPV4,), flags=("dynamic", "timeout"), timeout=10.0)
    seen.update(ip("10.0.0.1"), now=0.0)
    assert seen.lookup(ip("10.0.0.1"), 9.9) is not None
    seen.update(ip("10.0.0.1"), now=9.0)
    assert seen.lookup(ip("10.0.0.1"), 18.9) is not None
    assert seen.lookup(ip("10.0.0.1"), 19.0) is None
    assert seen.live(19.0) == []
