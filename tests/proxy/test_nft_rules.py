"""The nftables mode's rule text on its own, given TestOverallNFTablesRules' own objects
(kubernetes/kubernetes proxier_test.go at 81810de635aa13aa0a32992f6def3aa9d6025ebc) with the
test's own addresses: pod network 10.0.0.0/8, service CIDR 172.30.0.0/16, node test-node at
192.168.0.2. No renaming: the text must be the test's dump, line for line once sorted (svc4,
a NodePort Service without a nodePort, is possible here as in the test's fake proxier)."""

from ipaddress import IPv4Network

from nft_golden_lab import expected_sections, sort_transaction

from playground.cluster.objects import ObjectMeta
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
)
from playground.proxy.nft_options import NftOptions
from playground.proxy.nft_rules import base_lines, block_lines, service_block

PODS, SERVICES, NODE_IP = IPv4Network("10.0.0.0/8"), IPv4Network("172.30.0.0/16"), "192.168.0.2"
# NewFakeProxier's: detect-local by the pod CIDR, and the mark string set as "0x4000" (a real
# NewProxier formats it "%#08x", 0x00004000)
FAKE = NftOptions.by_cidr(PODS, mark="0x4000")


def service(n: int, node_port: int | None = None, lb: str | None = None,
            external: str | None = None, **spec) -> Service:
    return Service(ObjectMeta(f"svc{n}", f"ns{n}"), ServiceSpec(
        ports=[ServicePort(80, 80, name="p80", node_port=node_port)],
        cluster_ip=f"172.30.0.4{n}", external_ips=[external] if external else [], **spec),
        ServiceStatus(load_balancer_ips=[lb] if lb else []))


def endpoints(n: int, *addresses: tuple[str, str | None]) -> list[EndpointSlice]:
    return [EndpointSlice(ObjectMeta(f"svc{n}-1", f"ns{n}"), f"ns{n}/svc{n}",
                          [Endpoint(ip, node_name=node) for ip, node in addresses],
                          [EndpointPort(80, "TCP", "p80")])]


OVERALL = [
    (service(1), endpoints(1, ("10.180.0.1", None))),
    (service(2, 3001, "1.2.3.4", "192.168.99.22", type="LoadBalancer",
             external_traffic_policy="Local"), endpoints(2, ("10.180.0.2", None))),
    (service(3, 3003, type="NodePort"), endpoints(3, ("10.180.0.3", None))),
    (service(4, external="192.168.99.33", type="NodePort"),
     endpoints(4, ("10.180.0.4", None), ("10.180.0.5", "test-node"))),
    (service(5, 3002, "5.6.7.8", type="LoadBalancer",
             load_balancer_source_ranges=[" 203.0.113.0/25"], session_affinity="ClientIP"),
     endpoints(5, ("10.180.0.3", None))),
    (service(6), []),
]


def test_the_text_is_test_overall_nftables_rules_dump_exactly():
    lines = base_lines(SERVICES, [NODE_IP], FAKE)
    for made, slices in OVERALL:
        lines += block_lines(service_block(made, slices, "test-node", NODE_IP, FAKE))
    expected = [line for section in expected_sections().values() for line in section]
    assert sort_transaction(lines) == sort_transaction(expected)


def test_a_source_range_holding_the_node_lets_the_load_balancer_ips_in_too():
    """TestLoadBalancer: ranges 192.168.0.0/24 and 203.0.113.0/25 on LB IPs 1.2.3.4 and
    5.6.7.8; the node's own address is in the first, so its VIPs are allowed as sources."""
    made = Service(ObjectMeta("svc1", "ns1"), ServiceSpec(
        ports=[ServicePort(80, 80, name="p80", node_port=3001)], cluster_ip="172.30.0.41",
        type="LoadBalancer", load_balancer_source_ranges=["192.168.0.0/24", " 203.0.113.0/25"]),
        ServiceStatus(load_balancer_ips=["1.2.3.4", "5.6.7.8"]))
    block = service_block(made, endpoints(1, ("10.180.0.1", None)), "test-node", NODE_IP, FAKE)
    firewall = next(rules for name, rules in block.chains.items()
                    if name.startswith("firewall-"))
    assert firewall == ["ip saddr != { 192.168.0.0/24 , 203.0.113.0/25 , 1.2.3.4 , 5.6.7.8 } "
                        "drop"]
    elsewhere = service_block(made, endpoints(1, ("10.180.0.1", None)), "node2", "10.1.1.1",
                              FAKE)
    assert next(rules for name, rules in elsewhere.chains.items()
                if name.startswith("firewall-")) == [
        "ip saddr != { 192.168.0.0/24 , 203.0.113.0/25 } drop"]
