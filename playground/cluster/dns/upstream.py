"""The resolver on the internet side (the lab's stand-in for the one a kind node's
/etc/resolv.conf names): it knows a few public names and answers like a recursive resolver,
with recursion available and the root's SOA when a name does not exist."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from playground.cluster.cloud import INTERNET_HOST, RESOLVER  # noqa: F401 (its address)

TTL = 300
# the names out there: all of them are the internet host, the one web server there is
NAMES = {name: str(INTERNET_HOST) for name in ("example.com.", "www.example.com.",
                                               "example.net.", "example.org.")}
ROOT_SOA = "a.root-servers.net. nstld.verisign-grs.com. 2026120300 1800 900 604800 86400"


def answer(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query, our_payload=1232)
    response.flags |= dns.flags.RA
    question = query.question[0]
    name = question.name.to_text().lower()
    if name not in NAMES:
        response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(dns.rrset.from_text(
            dns.name.root, 86400, dns.rdataclass.IN, dns.rdatatype.SOA, ROOT_SOA))
    elif question.rdtype == dns.rdatatype.A:
        response.answer.append(dns.rrset.from_text(
            question.name, TTL, dns.rdataclass.IN, dns.rdatatype.A, NAMES[name]))
    else:  # the name is there, without records of the type: NODATA
        response.authority.append(dns.rrset.from_text(
            dns.name.root, 86400, dns.rdataclass.IN, dns.rdatatype.SOA, ROOT_SOA))
    return response
