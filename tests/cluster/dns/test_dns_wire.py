"""CoreDNS's answer on the wire: fitted to the client's buffer as request.Scrub and miekg's
Truncate do, and framed by its length over TCP."""

import dns.flags
import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from playground.cluster.dns.wire import buffer_size, framed, render, scrub

NAME = "big.default.svc.cluster.local."


def answer_of(count, edns=False):
    query = dns.message.make_query(NAME, "A", id=9, use_edns=0 if edns else False,
                                   payload=1232 if edns else None)
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text_list(
        NAME, 30, dns.rdataclass.IN, dns.rdatatype.A, [f"10.244.1.{i}" for i in range(count)]))
    return query, response


def test_the_buffer_is_512_without_edns_the_offered_size_with_it_and_64k_over_tcp():
    assert buffer_size(answer_of(1)[0], "udp") == 512
    assert buffer_size(answer_of(1, edns=True)[0], "udp") == 1232
    assert buffer_size(answer_of(1)[0], "tcp") == 65535


def test_a_small_answer_goes_uncompressed():
    query, response = answer_of(2)
    sent = scrub(response, query, "udp")
    assert sent == render(response, compress=False)
    assert len(sent) > len(response.to_wire())   # the name written again in each record


def test_40_addresses_over_udp_without_edns_keep_what_fits_and_set_tc():
    query, response = answer_of(40)
    sent = dns.message.from_wire(scrub(response, query, "udp"))
    kept = len(sent.answer[0])
    assert sent.flags & dns.flags.TC and 0 < kept < 40   # cut inside the RRset, not emptied
    assert len(scrub(response, query, "udp")) <= 512
    # one more record would not have fitted
    one_more = dns.message.from_wire(scrub(response, query, "udp"))
    one_more.answer[0].add(dns.rdata.from_text("IN", "A", "10.244.9.9"))
    assert len(one_more.to_wire()) > 512


def test_with_edns_or_over_tcp_the_same_answer_is_whole():
    query, response = answer_of(40, edns=True)
    compressed = dns.message.from_wire(scrub(response, query, "udp"))
    assert not compressed.flags & dns.flags.TC and len(compressed.answer[0]) == 40
    query, response = answer_of(40)
    over_tcp = scrub(response, query, "tcp")
    assert over_tcp == render(response, compress=False)   # fits 64 KiB uncompressed
    assert framed(over_tcp)[:2] == len(over_tcp).to_bytes(2, "big")
