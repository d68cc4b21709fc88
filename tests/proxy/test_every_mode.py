"""One scenario, run on every dataplane the lab offers (each CNI with each proxy mode it
takes, Cilium's kube-proxy replacement too): a pod reaches a Service's ClusterIP, the
internet reaches a NodePort, and each reply comes back from the address it was sent to.
A newly registered proxy mode joins by registration alone."""

from ipaddress import IPv4Address

from playground.cluster.legs import send
from playground.cluster.service import ServicePort

A = IPv4Address
WEB_PODS = ("pod/default/web-1", "pod/default/web-2")


def socket_reports(reply, address, port) -> bool:
    """A socket LB (Cilium's) leaves the reply untouched on the wire: the client's
    getpeername() is answered with the Service by a program at the socket."""
    return any(h.program and "getpeername" in h.program and f"{address}:{port}" in h.detail
               for h in reply.hops)


def translation(trace, before, after):
    """The hop that turned destination `before` into `after`, wherever the mode does it."""
    return [h for h in trace.hops if h.packet_before is not None and h.packet_after is not None
            and h.packet_before.dst == before and h.packet_after.dst == after]


async def test_pod_to_cluster_ip_reaches_a_backend_and_the_reply_comes_back(dataplane_lab):
    lab = dataplane_lab
    service_ip = A(lab.find_service("web").spec.cluster_ip)
    client_ip = A(lab.find_pod("client").status.pod_ip)
    trace = send(lab, "pod/client", "svc/web")
    assert trace.verdict == "delivered" and trace.delivered_to.namespace in WEB_PODS
    backend = A(lab.find_pod(trace.delivered_to.namespace.rsplit("/", 1)[1]).status.pod_ip)
    assert trace.delivered_packet.dst == backend and trace.delivered_packet.dport == 80
    assert trace.delivered_packet.src == client_ip, "a pod's source address is kept"
    assert translation(trace, service_ip, backend), "one hop shows the ClusterIP rewritten"
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    assert reply.delivered_packet.dst == client_ip
    assert (reply.delivered_packet.src, reply.delivered_packet.sport) == (service_ip, 80) or \
        socket_reports(reply, service_ip, 80), "the client sees the Service answer"


async def test_udp_to_cluster_ip_is_answered_from_the_service_address(dataplane_lab):
    lab = dataplane_lab
    trace = send(lab, "pod/client", "svc/kube-system/kube-dns", "udp", 53)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace.startswith(
        "pod/kube-system/coredns-")
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "pod/default/client"
    read = reply.hops[-1].packet_after   # what the application reads, after any socket program
    assert (read.src, read.sport) == (A("10.96.0.10"), 53)


async def test_nodeport_from_the_internet_reaches_a_backend_and_the_reply_comes_back(
        dataplane_lab):
    lab = dataplane_lab
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort")
    public = A(lab.api.get("Node", "", "kind-worker").status.external_ip)
    trace = send(lab, "internet", str(public), port=30080)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace in WEB_PODS
    backend = A(lab.find_pod(trace.delivered_to.namespace.rsplit("/", 1)[1]).status.pod_ip)
    assert trace.delivered_packet.dst == backend and trace.delivered_packet.dport == 80
    node_ip = lab.node_ips["kind-worker"]
    assert translation(trace, node_ip, backend), "one hop shows the NodePort rewritten"
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "internet"
    assert (reply.delivered_packet.src, reply.delivered_packet.sport) == (public, 30080)
