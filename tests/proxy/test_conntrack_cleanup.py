"""CleanStaleEntries (pkg/proxy/conntrack/cleanup.go): UDP entries for a Service IP or a
NodePort are deleted unless their reply comes from a serving endpoint of that port; TCP
and other destinations are left alone."""

from ipaddress import IPv4Address

from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort, ObjectMeta
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
)
from playground.net.conntrack import Conntrack
from playground.net.packet import tcp_syn, udp_datagram
from playground.proxy.conntrack_cleanup import StaleUdp

A = IPv4Address


def flow(table: Conntrack, packet, dnat_to: str | None = None) -> None:
    entry = table.new(packet)
    if dnat_to is not None:
        table.bind_nat(entry, "DST", A(dnat_to), None)
    table.confirm(entry, packet)


def services() -> tuple[list[Service], dict[str, list[EndpointSlice]]]:
    dns = Service(ObjectMeta("dns", "ns"), ServiceSpec(
        [ServicePort(53, 53, "UDP", "dns"), ServicePort(53, 53, "TCP", "dns-tcp")], {},
        "LoadBalancer", "10.96.0.10"))
    dns.status.load_balancer_ips = ["198.51.100.10"]
    dns.spec.ports[0].node_port = 30053
    endpoints = [Endpoint("10.244.1.5"), Endpoint("10.244.2.6", ready=False, serving=True,
                                                  terminating=True),
                 Endpoint("10.244.2.7", ready=False, serving=False)]
    slices = {dns.key: [EndpointSlice(ObjectMeta("dns-1", "ns"), dns.key, endpoints,
                                      [EndpointPort(53, "UDP", "dns"),
                                       EndpointPort(53, "TCP", "dns-tcp")])]}
    return [dns], slices


def test_only_udp_entries_not_answered_by_a_serving_endpoint_go() -> None:
    table = Conntrack()
    client = "10.244.3.9"
    flow(table, udp_datagram(client, "10.96.0.10", 40001, 53), "10.244.1.5")     # kept
    flow(table, udp_datagram(client, "10.96.0.10", 40002, 53), "10.244.2.6")     # serving
    flow(table, udp_datagram(client, "10.96.0.10", 40003, 53), "10.244.2.7")     # not serving
    flow(table, udp_datagram(client, "10.96.0.10", 40004, 53), "10.244.9.9")     # gone
    flow(table, udp_datagram(client, "10.96.0.10", 40005, 53))                   # never DNATed
    flow(table, udp_datagram(client, "198.51.100.10", 40006, 53), "10.244.9.9")  # LB IP
    flow(table, udp_datagram(client, "172.18.0.2", 40007, 30053), "10.244.9.9")  # NodePort
    flow(table, udp_datagram(client, "172.18.0.2", 40008, 30053), "10.244.1.5")  # NodePort ok
    flow(table, tcp_syn(client, "10.96.0.10", 40009, 53), "10.244.9.9")          # TCP
    flow(table, udp_datagram(client, "203.0.113.7", 40010, 53))                  # elsewhere
    assert StaleUdp(*services()).clean(table) == 5
    left = sorted(e.original.sport for e in table.entries)
    assert left == [40001, 40002, 40008, 40009, 40010]


async def test_a_service_gaining_its_first_endpoint_drops_its_callers_old_entries(lab):
    """Packets to a UDP Service without endpoints made entries nobody answers; once the
    Service has an endpoint they would pin the callers to nothing, so they go."""
    await lab.add_service("echo", [ServicePort(7, 7, "UDP", "echo")], selector={"app": "echo"})
    node = lab.node_namespace("kind-worker")
    service_ip = A(lab.find_service("echo").spec.cluster_ip)
    flow(node.conntrack, udp_datagram("10.244.1.2", service_ip, 40001, 7))
    assert len([e for e in node.conntrack.entries if e.original.dst == service_ip]) == 1
    await lab.add_pod("echo", [Container("echo", ports=[ContainerPort(7, protocol="UDP")])],
                      labels={"app": "echo"})
    assert not [e for e in node.conntrack.entries if e.original.dst == service_ip]


async def test_deleting_a_udp_endpoint_forgets_only_its_flows(lab):
    trace = send(lab, "pod/client", "svc/kube-system/kube-dns", proto="udp")
    tcp = send(lab, "pod/client", "svc/kube-system/kube-dns", proto="tcp", port=53)
    node = lab.node_namespace("kind-worker")
    chosen = trace.delivered_to.namespace.split("/")[-1]
    await lab.delete_pod(chosen, namespace="kube-system")
    assert not [e for e in node.conntrack.entries if e.original.proto == "udp"
                and e.reply.src == trace.delivered_packet.dst]
    assert [e for e in node.conntrack.entries if e.original.proto == "tcp"
            and e.reply.src == tcp.delivered_packet.dst]
