"""SCTP through the lab: an SCTP Service's rules match `-p sctp`, the INIT is DNATed to a
pod listening on SCTP, the INIT_ACK comes back un-NATed, conntrack keeps the association,
and an INIT to a port nobody listens on is answered with an ABORT."""

from __future__ import annotations

from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort


async def signalling(lab) -> str:
    await lab.add_pod("sig", [Container("sig", ports=[ContainerPort(9000, "sig", "SCTP")])],
                      labels={"app": "sig"})
    await lab.add_service("sig", [ServicePort(9000, 9000, "SCTP")], selector={"app": "sig"})
    return lab.find_service("sig").spec.cluster_ip


async def test_an_sctp_association_through_a_service_and_back(lab):
    address = await signalling(lab)
    pod_ip = lab.api.peek("Pod", "default", "sig").status.pod_ip
    trace = lab.network.send("pod/default/client", address, "sctp", 9000)
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.dst.compressed == pod_ip
    assert trace.delivered_packet.flags == "INIT"
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered"
    assert reply.delivered_packet.flags == "INIT_ACK"
    assert str(reply.delivered_packet.src) == address   # un-NATed on the way back
    node = lab.node_namespace(lab.api.peek("Pod", "default", "client").spec.node_name)
    lines = [e.text() for e in node.conntrack.entries if e.original.proto == "sctp"]
    assert lines and lines[0].startswith("sctp     132 3 COOKIE_WAIT src=")
    assert f"src={pod_ip} dst=" in lines[0]


async def test_an_init_to_a_closed_port_is_aborted(lab):
    await signalling(lab)
    pod_ip = lab.api.peek("Pod", "default", "sig").status.pod_ip
    trace = lab.network.send("pod/default/client", pod_ip, "sctp", 9001)
    assert trace.verdict == "rejected"
    assert any("the kernel answers with an SCTP ABORT" in hop.detail for hop in trace.hops)
    assert trace.reason == "nothing listening on sctp port 9001 in pod/default/sig"
    aborts = [hop for hop in trace.hops if hop.packet_before.flags == "ABORT"]
    assert aborts and aborts[-1].where == "pod/default/client"
