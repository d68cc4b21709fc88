"""A rule that drops a packet on its way out of its sender fails the send() of a UDP socket
with EPERM; TCP's connect() is not told and waits for the REJECT's answer."""

from playground.cluster.legs import send
from playground.cluster.service import ServicePort


async def test_udp_from_a_node_to_a_service_without_endpoints_fails_with_eperm(lab):
    await lab.add_service("empty", [ServicePort(53, protocol="UDP", name="dns")],
                          selector={"app": "none"})
    trace = send(lab, "node/kind-worker", "svc/empty", "udp", 53, None)
    assert trace.verdict == "rejected" and trace.errno == "EPERM"
    failed = [h for h in trace.hops if "EPERM" in h.detail]
    assert [(h.where, h.event, h.role) for h in failed] == [
        ("node/kind-worker", "drop", "packet")]
    rule = next(h for h in trace.hops if h.event == "netfilter" and h.chain == "KUBE-SERVICES")
    assert failed[0].index == rule.index + 1
    assert [h.where for h in trace.hops if h.role == "error" and h.event == "deliver"] == [
        "node/kind-worker"], "the REJECT's port unreachable still comes home"
    assert trace.to_dict()["errno"] == "EPERM"


async def test_tcp_and_forwarded_packets_get_no_send_error(lab):
    await lab.add_service("empty", [ServicePort(53, protocol="UDP", name="dns"),
                                    ServicePort(80, name="http")], selector={"app": "none"})
    tcp = send(lab, "node/kind-worker", "svc/empty", "tcp", 80, None)
    assert tcp.verdict == "rejected" and tcp.errno is None
    from_pod = send(lab, "pod/client", "svc/empty", "udp", 53, None)
    assert from_pod.verdict == "rejected" and from_pod.errno is None, \
        "rejected in the node's FORWARD: the pod's send() had returned already"
    assert "errno" not in from_pod.to_dict()
