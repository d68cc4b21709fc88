"""Which endpoints kube-proxy's rules send a Service's traffic to (proxy.CategorizeEndpoints
and syncProxyRules): ready ones, else serving terminating ones; Local policies through
KUBE-SVL only; the filter rules for Services with no (local) endpoints."""

from __future__ import annotations

from ipaddress import IPv4Network

from playground.cluster.objects import ObjectMeta
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
)
from playground.proxy.rules import chain_hash, node_rules

CIDR = IPv4Network("10.244.0.0/16")
NAME = "ns/web:http"
SVC = "KUBE-SVC-" + chain_hash(NAME, "tcp")
SVL = "KUBE-SVL-" + chain_hash(NAME, "tcp")
EXT = "KUBE-EXT-" + chain_hash(NAME, "tcp")


def web(*endpoints: Endpoint, kind: str = "ClusterIP", internal: str = "Cluster",
        external: str = "Cluster", external_ips: tuple[str, ...] = (),
        cluster_ip: str = "10.96.0.20", proto: str = "TCP"):
    node_port = 30080 if kind != "ClusterIP" else None
    spec = ServiceSpec([ServicePort(80, 8080, proto, "http", node_port)], {"app": "web"}, kind,
                       cluster_ip, external_traffic_policy=external,
                       internal_traffic_policy=internal, external_ips=list(external_ips))
    service = Service(ObjectMeta("web", "ns"), spec)
    slices = {service.key: [EndpointSlice(ObjectMeta("web-abcde", "ns"), service.key,
                                          list(endpoints), [EndpointPort(8080, proto, "http")])]}
    return [service], slices


def ready(ip: str, node: str) -> Endpoint:
    return Endpoint(ip, True, node)


def terminating(ip: str, node: str, serving: bool = True) -> Endpoint:
    return Endpoint(ip, False, node, serving=serving, terminating=True)


def targets(lines: list[str]) -> list[str]:
    return [line.split("--comment \"")[1].split("\"")[0].split(" -> ")[1]
            for line in lines if " -> " in line]


def test_endpoints_are_in_the_order_of_their_ip_port_strings():
    rules = node_rules(*web(ready("10.244.2.9", "n2"), ready("10.244.2.10", "n2"),
                            ready("10.244.1.100", "n1")), "n1", CIDR)
    assert targets(rules.nat[SVC]) == ["10.244.1.100:8080", "10.244.2.10:8080",
                                      "10.244.2.9:8080"]


def test_serving_terminating_endpoints_are_used_only_when_no_ready_one_is_left():
    rules = node_rules(*web(ready("10.244.1.5", "n1"), terminating("10.244.2.5", "n2")),
                       "n1", CIDR)
    assert targets(rules.nat[SVC]) == ["10.244.1.5:8080"]
    rules = node_rules(*web(terminating("10.244.1.5", "n1"), terminating("10.244.2.5", "n2"),
                            terminating("10.244.2.6", "n2", serving=False)), "n1", CIDR)
    assert targets(rules.nat[SVC]) == ["10.244.1.5:8080", "10.244.2.5:8080"]
    assert not rules.filter["KUBE-SERVICES"]


def test_endpoints_neither_ready_nor_serving_leave_the_service_rejected():
    rules = node_rules(*web(terminating("10.244.1.5", "n1", serving=False)), "n1", CIDR)
    assert SVC not in rules.nat
    assert rules.filter["KUBE-SERVICES"] == [
        '-d 10.96.0.20/32 -p tcp -m comment --comment "ns/web:http has no endpoints" -m tcp '
        '--dport 80 -j REJECT --reject-with icmp-port-unreachable']


def test_internal_local_goes_through_kube_svl_alone_with_its_masquerade_rule():
    services, slices = web(ready("10.244.1.5", "n1"), ready("10.244.2.5", "n2"),
                           internal="Local")
    rules = node_rules(services, slices, "n1", CIDR)
    assert SVC not in rules.nat
    assert rules.nat[SVL][0] == (
        '! -s 10.244.0.0/16 -d 10.96.0.20/32 -p tcp -m comment --comment "ns/web:http '
        'cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ')
    assert targets(rules.nat[SVL]) == ["10.244.1.5:8080"]
    assert f"-j {SVL}" in rules.nat["KUBE-SERVICES"][0]
    # the remote endpoint's chain is not written: nothing here can reach it
    assert len([c for c in rules.nat if c.startswith("KUBE-SEP-")]) == 1


def test_internal_local_without_a_local_endpoint_drops_and_writes_no_chain():
    rules = node_rules(*web(ready("10.244.2.5", "n2"), internal="Local"), "n1", CIDR)
    assert SVL not in rules.nat and SVC not in rules.nat
    assert len(rules.nat["KUBE-SERVICES"]) == 1   # the NODEPORTS jump alone
    assert rules.filter["KUBE-SERVICES"] == [
        '-d 10.96.0.20/32 -p tcp -m comment --comment "ns/web:http has no local endpoints" '
        '-m tcp --dport 80 -j DROP']


def test_local_policy_falls_back_to_local_serving_terminating_endpoints():
    rules = node_rules(*web(ready("10.244.2.5", "n2"), terminating("10.244.1.5", "n1"),
                            kind="NodePort", external="Local"), "n1", CIDR)
    assert targets(rules.nat[SVL]) == ["10.244.1.5:8080"]
    assert targets(rules.nat[SVC]) == ["10.244.2.5:8080"]
    assert rules.nat[EXT][-1] == f"-j {SVL}"
    # both endpoints are reachable from here, so both have their chain
    assert len([c for c in rules.nat if c.startswith("KUBE-SEP-")]) == 2


def test_external_local_without_local_endpoints_keeps_the_short_circuit_and_drops():
    rules = node_rules(*web(ready("10.244.2.5", "n2"), kind="NodePort", external="Local"),
                       "n1", CIDR)
    assert SVL not in rules.nat
    assert all(f"-j {SVL}" not in line for line in rules.nat[EXT])
    assert len(rules.nat[EXT]) == 3   # pod traffic, masquerade LOCAL, route LOCAL
    assert rules.filter["KUBE-EXTERNAL-SERVICES"] == [
        '-p tcp -m comment --comment "ns/web:http has no local endpoints" -m addrtype '
        '--dst-type LOCAL -m tcp --dport 30080 -j DROP']


def test_external_ips_go_to_the_ext_chain_and_drop_without_local_endpoints():
    services, slices = web(ready("10.244.2.5", "n2"), external_ips=("192.0.2.10",))
    rules = node_rules(services, slices, "n1", CIDR)
    assert rules.nat["KUBE-SERVICES"][1] == (
        '-d 192.0.2.10/32 -p tcp -m comment --comment "ns/web:http external IP" -m tcp '
        f'--dport 80 -j {EXT}')
    assert rules.nat[EXT] == [
        '-m comment --comment "masquerade traffic for ns/web:http external destinations" '
        '-j KUBE-MARK-MASQ', f"-j {SVC}"]
    services[0].spec.external_traffic_policy = "Local"
    rules = node_rules(services, slices, "n1", CIDR)
    assert rules.filter["KUBE-EXTERNAL-SERVICES"] == [
        '-d 192.0.2.10/32 -p tcp -m comment --comment "ns/web:http has no local endpoints" '
        '-m tcp --dport 80 -j DROP']


def test_headless_and_external_name_services_have_no_rules():
    services, slices = web(ready("10.244.2.5", "n2"), cluster_ip="None")
    external = Service(ObjectMeta("db", "ns"), ServiceSpec(
        [ServicePort(5432)], type="ExternalName", external_name="db.example.com"))
    rules = node_rules(services + [external], slices, "n1", CIDR)
    assert not [c for c in rules.nat if c.startswith(("KUBE-SVC-", "KUBE-SEP-"))]
    assert rules.nat["KUBE-SERVICES"] == [rules.nat["KUBE-SERVICES"][-1]]   # the NODEPORTS jump
    assert not rules.filter["KUBE-SERVICES"]


def test_sctp_ports_match_sctp():
    rules = node_rules(*web(ready("10.244.2.5", "n2"), proto="SCTP"), "n1", CIDR)
    sctp_svc = "KUBE-SVC-" + chain_hash(NAME, "sctp")
    assert rules.nat["KUBE-SERVICES"][0] == (
        '-d 10.96.0.20/32 -p sctp -m comment --comment "ns/web:http cluster IP" -m sctp '
        f'--dport 80 -j {sctp_svc}')
