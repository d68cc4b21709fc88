"""ICMP redirects: sent when a packet leaves by the device it came in on, to a sender on
that link; kept in by NAT when they are about a flow it rewrites."""

from ipaddress import IPv4Address, IPv4Network

import pytest
from test_walk import two_hosts_on_a_bridge

from playground.net.packet import ICMP_REDIRECT, REDIRECT_HOST
from playground.net.route import Route

A = IPv4Address


def lan_with_a_better_router():
    """left sends 10.9.0.5 to its default router (host), whose route for it goes back out
    the same bridge to right: a redirect case."""
    world, _ = two_hosts_on_a_bridge()
    host = world.namespace("host")
    host.add_route(Route(IPv4Network("10.9.0.0/24"), dev="br0", via=A("10.0.0.3")))
    world.namespace("right").add_address("lo", "10.9.0.5/32")
    return world, host


def redirects(trace):
    return [h for h in trace.hops if h.packet_after.icmp_type == ICMP_REDIRECT]


def test_a_packet_routed_back_out_its_device_brings_the_sender_a_host_redirect():
    world, _ = lan_with_a_better_router()
    trace = world.send("left", "10.9.0.5", "tcp", 80)
    assert trace.verdict == "delivered", "the packet itself still goes on"
    sent, *_ = redirects(trace)
    redirect = sent.packet_after
    assert (sent.where, sent.event, sent.role) == ("host", "icmp", "error")
    assert (redirect.icmp_type, redirect.icmp_code) == (ICMP_REDIRECT, REDIRECT_HOST)
    assert (redirect.src, redirect.dst, redirect.gateway) == (A("10.0.0.1"), A("10.0.0.2"),
                                                              A("10.0.0.3"))
    assert redirect.inner.ttl == 63, "sent after the TTL went down, quoting what is forwarded"
    assert redirect.length == 28 + 60
    assert "redirect 10.9.0.5 to host 10.0.0.3" in redirect.summary()
    forward = trace.events("forward")[0].index
    assert sent.index == forward + 1, "before the FORWARD hook, right after the TTL"
    home = [h for h in redirects(trace) if h.where == "left" and h.event == "deliver"]
    assert home, "no conntrack on the router: the redirect reaches the sender"


def test_send_redirects_is_on_while_conf_all_or_the_device_says_so():
    world, host = lan_with_a_better_router()
    host.sysctl["net.ipv4.conf.all.send_redirects"] = "0"
    assert redirects(world.send("left", "10.9.0.5", "tcp", 80)), "br0's own is still 1"
    host.sysctl["net.ipv4.conf.br0.send_redirects"] = "0"
    assert not redirects(world.send("left", "10.9.0.5", "tcp", 80))
    host.sysctl["net.ipv4.conf.all.send_redirects"] = "1"
    assert redirects(world.send("left", "10.9.0.5", "tcp", 80))


def test_no_redirect_to_a_sender_behind_a_gateway_or_through_another_device():
    world, host = lan_with_a_better_router()
    host.add_route(Route(IPv4Network("10.0.0.2/32"), dev="br0", via=A("10.0.0.3")))
    assert not redirects(world.send("left", "10.9.0.5", "tcp", 80)), \
        "the way back to the sender has a gateway"
    world, _ = two_hosts_on_a_bridge()
    assert not redirects(world.send("left", "10.0.0.3", "tcp", 80)), "switched, not routed"


def test_without_shared_media_sender_and_gateway_must_share_a_subnet_of_the_device():
    world, host = lan_with_a_better_router()
    host.sysctl["net.ipv4.conf.all.shared_media"] = "0"
    host.sysctl["net.ipv4.conf.br0.shared_media"] = "0"
    assert redirects(world.send("left", "10.9.0.5", "tcp", 80)), "both in 10.0.0.0/24"
    host.main.delete(IPv4Network("10.9.0.0/24"))
    host.add_route(Route(IPv4Network("10.9.0.0/24"), dev="br0", via=A("10.7.0.1"),
                         onlink=True))
    assert not redirects(world.send("left", "10.9.0.5", "tcp", 80)), \
        "the gateway is on no subnet of br0"


def test_no_redirect_about_an_icmp_error():
    world, host = lan_with_a_better_router()
    world.namespace("right").add_route(Route(IPv4Network("10.0.0.2/32"), dev="eth0",
                                             via=A("10.0.0.1")))
    trace = world.send("left", "10.9.0.5", "udp", 53)
    assert [h.where for h in trace.hops if h.role == "error" and h.event == "forward"] == [
        "host"], "the port unreachable goes back through host, in and out of br0"
    assert [h.where for h in redirects(trace) if h.event == "icmp"] == ["host"], \
        "about the datagram; the port unreachable coming back the same way brings none"


@pytest.mark.dataplanes("ptp")
async def test_a_ptp_hairpin_redirect_is_made_and_dropped_by_nat(dataplane_lab):
    from playground.cluster.legs import send

    for _ in range(40):
        trace = send(dataplane_lab, "pod/web-2", "svc/web", "tcp", None, None)
        if trace.delivered_to.namespace == "pod/default/web-2":
            break
    else:
        raise AssertionError("the Service never picked the sender itself")
    made, dropped = redirects(trace)
    assert made.where == dropped.where == "node/kind-worker"
    assert made.event == "icmp" and made.dev_in == made.dev_out
    assert made.packet_after.gateway == made.packet_after.inner.dst == A("10.244.1.3")
    assert dropped.event == "drop" and "nat OUTPUT" in dropped.detail
    assert trace.verdict == "delivered"
    assert not [h for h in trace.hops if h.role == "error" and h.where.startswith("pod/")], \
        "the pod never sees it"


@pytest.mark.dataplanes("ptp")
async def test_without_shared_media_a_ptp_node_sends_none_its_veth_is_a_slash_32(dataplane_lab):
    """The host end of a ptp veth holds only the gateway's /32: no subnet of it holds the pod
    (checked in the kernel too: IcmpOutRedirects stays 0 with shared_media off)."""
    from playground.cluster.legs import send

    node = dataplane_lab.node_namespace("kind-worker")
    node.sysctl["net.ipv4.conf.all.shared_media"] = "0"
    for dev in node.devices:
        node.sysctl[f"net.ipv4.conf.{dev}.shared_media"] = "0"
    for _ in range(40):
        trace = send(dataplane_lab, "pod/web-2", "svc/web", "tcp", None, None)
        if trace.delivered_to.namespace == "pod/default/web-2":
            break
    assert trace.delivered_to.namespace == "pod/default/web-2"
    assert not redirects(trace)
