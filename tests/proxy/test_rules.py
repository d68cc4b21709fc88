"""Every rule kube-proxy's rules module writes is already in iptables-save's own spelling:
parsing it and printing it back gives the same text (the service table relies on it to
show chains it has not parsed)."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Network

import pytest

from playground.cluster.objects import ObjectMeta
from playground.cluster.proxy_config import ProxyOptions
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
)
from playground.net.netfilter import parse_rule
from playground.proxy.rules import node_rules, probability

CIDR = IPv4Network("10.244.0.0/16")


def every_kind() -> tuple[list[Service], dict[str, list[EndpointSlice]]]:
    """One Service per combination of the settings that change the rules' shapes."""
    services, slices = [], {}
    combos = itertools.product(("ClusterIP", "NodePort", "LoadBalancer"), ("Cluster", "Local"),
                               ("Cluster", "Local"), ("None", "ClientIP"), ("TCP", "UDP"),
                               ([], ["192.0.2.0/24"]), (0, 1, 3))
    for index, (kind, external, internal, affinity, proto, ranges, count) in \
            enumerate(combos, start=1):
        name = f"s{index}"
        node_port = 30000 + 2 * index if kind != "ClusterIP" else None
        ports = [ServicePort(80, 8080, proto, "http", node_port),
                 ServicePort(443, 8443, proto, "https", node_port and node_port + 1)]
        spec = ServiceSpec(ports, {"app": name}, kind, f"10.96.{index // 250}.{index % 250 + 1}",
                           session_affinity=affinity, external_traffic_policy=external,
                           internal_traffic_policy=internal,
                           load_balancer_source_ranges=ranges)
        if kind == "LoadBalancer" and external == "Local":
            spec.health_check_node_port = 31000 + index
        if affinity == "ClientIP" and index % 2:
            spec.session_affinity_timeout_seconds = 60 + index
        service = Service(ObjectMeta(name, "ns"), spec)
        if kind == "LoadBalancer":
            service.status.load_balancer_ips = [f"203.0.113.{index % 250}"]
        services.append(service)
        endpoints = [Endpoint(f"10.244.{node}.{index % 250}", True, f"n{node}")
                     for node in range(count)]
        slices[service.key] = [EndpointSlice(
            ObjectMeta(name, "ns"), service.key, endpoints,
            [EndpointPort(8080, proto, "http"), EndpointPort(8443, proto, "https")])]
    return services, slices


OPTIONS = [ProxyOptions(), ProxyOptions(masquerade_all=True), ProxyOptions(masquerade_bit=5),
           ProxyOptions(localhost_node_ports=False),
           ProxyOptions(detect_local_mode="BridgeInterface", bridge_interface="cni0"),
           ProxyOptions(detect_local_mode="InterfaceNamePrefix", interface_name_prefix="veth")]


@pytest.mark.parametrize("options", OPTIONS)
def test_every_rule_reads_back_as_written(options: ProxyOptions) -> None:
    services, slices = every_kind()
    checked = 0
    for node, node_ip in (("", None), ("n0", "192.0.2.7")):   # n0: inside the source range
        rules = node_rules(services, slices, node, CIDR, options, node_ip)
        for table in ("nat", "filter"):
            for chain, lines in getattr(rules, table).items():
                for line in lines:
                    assert parse_rule(table, chain, line).spec() == line
                    checked += 1
    assert checked > 5000


def test_above_1000_endpoints_the_endpoint_rules_have_no_comments() -> None:
    """kube-proxy's large cluster mode: its SEP chains and endpoint choices lose comments."""
    spec = ServiceSpec([ServicePort(80, 8080, name="http")], {"app": "big"}, "ClusterIP",
                       "10.96.9.9")
    service = Service(ObjectMeta("big", "ns"), spec)

    def rules_for(count: int):
        endpoints = [Endpoint(f"10.244.{i // 250}.{i % 250 + 1}", True, "n1")
                     for i in range(count)]
        slices = {service.key: [EndpointSlice(ObjectMeta("big", "ns"), service.key, endpoints,
                                              [EndpointPort(8080, "TCP", "http")])]}
        return node_rules([service], slices, "n1", CIDR).nat

    small, large = rules_for(1000), rules_for(1001)
    small_seps = [lines for chain, lines in small.items() if chain.startswith("KUBE-SEP-")]
    large_seps = [lines for chain, lines in large.items() if chain.startswith("KUBE-SEP-")]
    assert all("--comment" in line for lines in small_seps for line in lines)
    assert not any("--comment" in line for lines in large_seps for line in lines)
    choice = next(lines for chain, lines in large.items() if chain.startswith("KUBE-SVC-"))
    assert "--comment" in choice[0]   # the masquerade rule keeps its comment
    assert not any("--comment" in line for line in choice[1:])


def test_probability_is_what_the_kernel_keeps() -> None:
    # 1/15 is kept as round(2**31 / 15) = 143165577, which iptables-save prints this way
    assert probability(0, 15) == "0.06666666688"
    assert probability(1, 3) == "0.50000000000"
    assert probability(0, 3) == "0.33333333349"


def test_chain_hash_is_kube_proxys_base32_of_the_sha256():
    import base64
    import hashlib
    import random

    from playground.proxy.rules import chain_hash

    rng = random.Random(7)
    for _ in range(2_000):
        parts = (f"ns-{rng.randrange(99)}/svc:{rng.randrange(9)}", rng.choice(["tcp", "udp"]),
                 f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:80")
        digest = hashlib.sha256("".join(parts).encode()).digest()
        assert chain_hash(*parts) == base64.b32encode(digest[:10]).decode()
