"""Names where an address is taken: the resolver's queries as legs, then the connection."""

import dns.rcode
import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import TraceRequest, legs, main_leg, unresolved
from playground.cluster.service import ServicePort


def roles(found):
    return [leg.role for leg in found]


def test_curl_web_asks_kube_dns_once_then_connects_to_the_service(lab):
    found = legs(lab, TraceRequest("pod/client", "web", reply=True))
    assert roles(found) == ["dns", "dns-reply", "packet", "reply"]
    query, answer, connection = found[0].trace, found[1].trace, found[2].trace
    assert query.packet.dst.exploded == "10.96.0.10" and query.packet.dport == 53
    assert query.delivered_to.namespace.startswith("pod/kube-system/coredns-")
    dnat = [h for h in query.hops if h.packet_after.dst != h.packet_before.dst]
    assert dnat and dnat[0].packet_after.dst.exploded.startswith("10.244.0.")
    # the answer leaves the coredns pod from its own address and arrives un-NATed
    assert answer.delivered_packet.src.exploded == "10.96.0.10"
    assert answer.delivered_packet.dport == query.packet.sport
    web = lab.api.peek("Service", "default", "web")
    assert connection.packet.dst.exploded == web.spec.cluster_ip
    assert connection.packet.dport == 80 and connection.verdict == "delivered"
    assert "DNS id" in query.hops[0].detail and "A 10." in answer.hops[-1].detail


def test_a_name_with_fewer_dots_than_ndots_walks_the_search_list_first(lab):
    found = legs(lab, TraceRequest("pod/client", "http://web.default.svc.cluster.local/"))
    asked = [leg.message.question[0].name.to_text() for leg in found if leg.role == "dns"]
    assert asked == ["web.default.svc.cluster.local.default.svc.cluster.local.",
                     "web.default.svc.cluster.local.svc.cluster.local.",
                     "web.default.svc.cluster.local.cluster.local.",
                     "web.default.svc.cluster.local."]
    trailing = legs(lab, TraceRequest("pod/client", "web.default.svc.cluster.local.:80"))
    assert roles(trailing) == ["dns", "dns-reply", "packet"]


def test_a_public_name_is_forwarded_by_coredns_to_the_internet_resolver(lab):
    found = legs(lab, TraceRequest("pod/client", "example.com:443"))
    assert roles(found)[-4:] == ["forwarded-dns", "forwarded-dns-reply", "dns-reply", "packet"]
    forwarded = found[-4].trace
    assert forwarded.source.startswith("pod/kube-system/coredns-")
    assert forwarded.delivered_to.namespace == "internet"
    assert main_leg(found).trace.packet.dst.exploded == "203.0.113.100"
    assert main_leg(found).trace.delivered_to.owner == "www"


def test_a_name_nobody_knows_is_nxdomain_after_the_whole_search_list(lab):
    found = legs(lab, TraceRequest("pod/client", "nope"))
    answers = [leg.message for leg in found if leg.role == "dns-reply"]
    assert len(answers) == 4 and all(a.rcode() == dns.rcode.NXDOMAIN for a in answers)
    assert "packet" not in roles(found)
    assert unresolved("nope", found) == "could not resolve nope: NXDOMAIN, after 4 answers"


async def test_coredns_scaled_to_0_kube_proxy_rejects_and_the_resolver_tries_again(lab):
    await lab.scale("coredns", 0, "kube-system")
    await lab.advance(31)  # their grace period: then kube-dns has no endpoints
    found = legs(lab, TraceRequest("pod/client", "web"))
    assert roles(found) == ["dns", "dns"]  # attempts:2, one nameserver, then it gives up
    assert [leg.trace.verdict for leg in found] == ["rejected", "rejected"]
    assert found[1].why == "attempt 2 of 2"
    assert "no nameserver answered" in unresolved("web", found)


async def test_an_upstream_that_does_not_answer_is_servfail_then_the_next_search_name(lab):
    lab.network.namespace("internet").sockets[:] = [
        s for s in lab.network.namespace("internet").sockets if s.owner != "resolver"]
    found = legs(lab, TraceRequest("pod/client", "example.com"))
    answers = [leg.message.rcode() for leg in found if leg.role == "dns-reply"]
    assert answers[-2:] == [dns.rcode.SERVFAIL, dns.rcode.SERVFAIL]  # both attempts
    assert [leg.trace.verdict for leg in found if leg.role == "forwarded-dns"][0] == "rejected"


async def test_a_service_name_that_is_a_typo_is_nxdomain_and_a_new_one_resolves(lab):
    assert "packet" not in roles(legs(lab, TraceRequest("pod/client", "shop")))
    await lab.add_service("shop", [ServicePort(80, name="http")], selector={"app": "web"})
    await lab.advance(31)  # the negative answers leave the caches
    assert "packet" in roles(legs(lab, TraceRequest("pod/client", "shop")))


def test_a_place_or_an_address_sends_no_query(lab):
    assert roles(legs(lab, TraceRequest("pod/client", "svc/web"))) == ["packet"]
    with pytest.raises(ClusterError):
        legs(lab, TraceRequest("pod/client", "ftp://web/"))
