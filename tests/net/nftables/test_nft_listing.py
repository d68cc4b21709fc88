"""`nft list` text and JSON, against what the real nft 1.0.6 printed for the same input
(the .list and .handles files were captured from the kernel: see tests/verify)."""

import json
from pathlib import Path

from playground.net.nftables import Nftables

DATA = Path(__file__).parent / "data"


def loaded(text: str) -> Nftables:
    nft = Nftables()
    nft.run(text)
    return nft


def test_kube_proxys_ruleset_lists_as_the_kernel_listed_it(kube_proxy_rules):
    nft = loaded(kube_proxy_rules)
    assert nft.list_ruleset() == (DATA / "kube_proxy_overall.list").read_text()


def test_handles_are_numbered_as_the_kernel_numbers_them(kube_proxy_rules):
    nft = loaded(kube_proxy_rules)
    shown = nft.list(["chain", "ip", "kube-proxy", "services"], handles=True)
    assert shown == (DATA / "kube_proxy_services.handles").read_text()


def test_the_listing_loads_back_as_the_same_ruleset(kube_proxy_rules):
    """`nft list ruleset` output is itself nft input (the block form)."""
    first = loaded(kube_proxy_rules).list_ruleset()
    assert loaded(first).list_ruleset() == first


def test_json_has_the_libnftables_shape(kube_proxy_rules):
    items = loaded(kube_proxy_rules).list_json()["nftables"]
    assert items[0]["metainfo"]["json_schema_version"] == 1
    services = next(i["map"] for i in items if i.get("map", {}).get("name") == "service-ips")
    assert services["type"] == ["ipv4_addr", "inet_proto", "inet_service"]
    assert services["map"] == "verdict"
    assert [{"concat": ["172.30.0.41", "tcp", 80]},
            {"goto": {"target": "service-ULMVA6XW-ns1/svc1/tcp/p80"}}] in services["elem"]
    rule = next(i["rule"] for i in items if i.get("rule", {}).get("chain") == "masquerading")
    assert rule["expr"] == [{"match": {"op": "==", "left": {"&": [{"meta": {"key": "mark"}},
                                                                  16384]}, "right": 0}},
                            {"return": None}]
    json.dumps(items)


def test_priorities_print_by_name_only_where_nft_names_them():
    nft = loaded("""
add table ip p
add chain ip p a { type filter hook prerouting priority -110 ; }
add chain ip p b { type nat hook output priority -100 ; }
add chain ip p c { type filter hook prerouting priority dstnat - 10 ; }
add chain ip p d { type nat hook postrouting priority 100 ; }
add chain ip p e { type filter hook input priority 5 ; }
""")
    heads = [line.strip() for line in nft.list_ruleset().splitlines() if "hook" in line]
    assert heads == ["type filter hook prerouting priority dstnat - 10; policy accept;",
                     "type nat hook output priority -100; policy accept;",
                     "type filter hook prerouting priority dstnat - 10; policy accept;",
                     "type nat hook postrouting priority srcnat; policy accept;",
                     "type filter hook input priority filter + 5; policy accept;"]


def test_elements_are_sorted_and_wrapped_as_nft_does():
    nft = loaded("""
add table ip w
add set ip w a { type ipv4_addr ; }
add element ip w a { 10.0.0.9, 10.0.0.1, 192.168.0.1, 10.0.0.5, 10.0.0.7 }
add set ip w p { type inet_service ; }
add element ip w p { 7, 6, 5, 4, 3, 2, 1 }
""")
    text = nft.list_ruleset()
    assert ("elements = { 10.0.0.1, 10.0.0.5,\n\t\t\t     10.0.0.7, 10.0.0.9,\n"
            "\t\t\t     192.168.0.1 }") in text
    assert "elements = { 1, 2, 3, 4, 5,\n\t\t\t     6, 7 }" in text
