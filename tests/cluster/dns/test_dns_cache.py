"""CoreDNS's cache 30 on the lab clock, and forward to the internet's resolver."""

import dns.message
import dns.rcode

from playground.cluster.dns import upstream


def ask(lab, name, forward, pod="pod/kube-system/a"):
    query = dns.message.make_query(name, "A", id=9)
    return lab.coredns.serve(pod, query, lab.network.clock, forward)


def test_a_forwarded_answer_is_capped_at_30_s_and_served_from_cache_with_the_time_left(lab):
    asked = []

    def forward(query):
        asked.append(query)
        return upstream.answer(query)

    first = ask(lab, "example.com.", forward)
    assert first.how == "forward" and first.response.answer[0].ttl == 30
    lab.network.advance(12)
    again = ask(lab, "example.com.", forward)
    assert again.how == "cache" and again.response.answer[0].ttl == 18 and len(asked) == 1
    assert again.response.id == 9
    lab.network.advance(18)
    assert ask(lab, "example.com.", forward).how == "forward" and len(asked) == 2


def test_each_coredns_pod_has_its_own_cache(lab):
    ask(lab, "web.default.svc.cluster.local.", None, "pod/kube-system/a")
    assert ask(lab, "web.default.svc.cluster.local.", None, "pod/kube-system/a").how == "cache"
    assert ask(lab, "web.default.svc.cluster.local.", None, "pod/kube-system/b").how == \
        "kubernetes"


def test_a_negative_answer_is_cached_for_the_soa_minimum(lab):
    ask(lab, "nope.default.svc.cluster.local.", None)
    lab.network.advance(29)
    cached = ask(lab, "nope.default.svc.cluster.local.", None)
    assert cached.how == "cache" and cached.response.rcode() == dns.rcode.NXDOMAIN
    assert cached.response.authority[0].ttl == 1


def test_no_upstream_answer_is_servfail_cached_for_5_s(lab):
    assert ask(lab, "example.com.", lambda q: None).response.rcode() == dns.rcode.SERVFAIL
    lab.network.advance(5)
    assert ask(lab, "example.com.", upstream.answer).response.rcode() == dns.rcode.NOERROR


def test_the_resolver_knows_its_names_only():
    assert upstream.answer(dns.message.make_query("nope.example.", "A")).rcode() == \
        dns.rcode.NXDOMAIN
    found = upstream.answer(dns.message.make_query("example.com.", "A"))
    assert found.answer[0][0].address == "203.0.113.100"
