"""An ICMP error about a NATed flow is found by its quoted packet's inverted tuple."""

from ipaddress import IPv4Network

from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort


async def test_an_error_about_a_masqueraded_flow_is_related_not_new(lab):
    await lab.add_pod("far", [Container("far", ports=[ContainerPort(80)])],
                      labels={"app": "far"}, node_name="kind-worker2")
    await lab.add_service("far", [ServicePort(80)], selector={"app": "far"})
    node = lab.node_namespace("kind-worker")
    node.main.delete(IPv4Network("10.244.2.0/24"))  # the VPC gateway answers: unreachable
    trace = send(lab, "node/kind-worker", "svc/far", "tcp", None, None)
    assert trace.verdict == "unreachable"
    related = [h for h in trace.hops if h.where == "node/kind-worker" and h.role == "error"
               and h.event == "conntrack"]
    assert related and "RELATED" in related[0].detail
    assert [e.original.proto for e in node.conntrack.entries] == ["tcp"], \
        "the error joins the TCP flow; it opens no flow of its own"
