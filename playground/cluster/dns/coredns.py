"""One CoreDNS server, the program its pods run: kubeadm's Corefile, in the order CoreDNS
chains the plugins (plugin.cfg): cache, then kubernetes, then forward.

    .:53 {
        errors
        health { lameduck 5s }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        prometheus :9153
        forward . /etc/resolv.conf { max_concurrent 1000 }
        cache 30
        loop
        reload
        loadbalance
    }

`cache 30` follows plugin/cache (cache.go, item.go): an answer is kept for its smallest TTL
(an NXDOMAIN or NODATA for its SOA's), between 5 and 30 seconds, a SERVFAIL for 5; a hit
answers with the time left as every record's TTL. `forward` sends the question on unchanged
and answers SERVFAIL when no upstream does. `loadbalance` shuffles the A records.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from playground.cluster.dns.kubernetes import Kubernetes, zone_of

CACHE_MAX, CACHE_MIN, SERVFAIL_TTL = 30, 5, 5

Forward = Callable[[dns.message.Message], "dns.message.Message | None"]


@dataclass
class Entry:
    response: dns.message.Message
    stored: float
    ttl: int

    def left(self, now: float) -> int:
        return self.ttl - int(now - self.stored)


@dataclass
class Served:
    response: dns.message.Message
    how: str  # which plugin answered: cache, kubernetes, forward


class CoreDns:
    """The server of each coredns pod; every pod has a cache of its own."""

    def __init__(self, kubernetes: Kubernetes, rng: random.Random) -> None:
        self.kubernetes = kubernetes
        self.rng = rng
        self.caches: dict[str, dict[tuple[str, int], Entry]] = {}

    def serve(self, pod: str, query: dns.message.Message, now: float,
              forward: Forward) -> Served:
        question = query.question[0]
        key = (question.name.to_text().lower(), question.rdtype)
        cache = self.caches.setdefault(pod, {})
        entry = cache.get(key)
        if entry is not None and entry.left(now) > 0:
            return Served(_from_cache(entry, query, now), "cache")
        response, how = self._resolve(query, forward)
        ttl = cache_ttl(response)
        cache[key] = Entry(_copy(response), now, ttl)
        _cap(response, ttl)
        return Served(response, how)

    def _resolve(self, query: dns.message.Message, forward: Forward):
        question = query.question[0]
        if zone_of(question.name) is not None:
            lookup = self.kubernetes.serve(question.name, question.rdtype)
            if not lookup.fall:
                response = dns.message.make_response(query, our_payload=query.payload)
                response.flags |= dns.flags.AA
                response.set_rcode(lookup.rcode)
                response.answer.extend(lookup.answer)
                response.authority.extend(lookup.authority)
                response.additional.extend(lookup.additional)
                for target in lookup.external:  # an ExternalName out of the cluster
                    outside = forward(dns.message.make_query(target, question.rdtype,
                                                             id=query.id))
                    if outside is not None:
                        response.answer.extend(outside.answer)
                self._shuffle(response)
                return response, "kubernetes"
        upstream = forward(query)
        if upstream is None:
            failed = dns.message.make_response(query, our_payload=query.payload)
            failed.set_rcode(dns.rcode.SERVFAIL)
            return failed, "forward"
        upstream.id = query.id
        self._shuffle(upstream)
        return upstream, "forward"

    def _shuffle(self, response: dns.message.Message) -> None:
        """loadbalance round_robin: the order of the A records of each answer shuffled."""
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.A and len(rrset) > 1:
                items = list(rrset)
                self.rng.shuffle(items)
                rrset.clear()
                for item in items:
                    rrset.add(item)


def cache_ttl(response: dns.message.Message) -> int:
    """cache.go minMsgTTL and computeTTL."""
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return SERVFAIL_TTL
    if rcode == dns.rcode.NXDOMAIN or not response.answer:
        soas = [min(r.ttl, r[0].minimum) for r in response.authority
                if r.rdtype == dns.rdatatype.SOA]
        found = min(soas, default=CACHE_MIN)
    else:
        found = min(r.ttl for r in (*response.answer, *response.authority,
                                    *response.additional))
    return max(CACHE_MIN, min(CACHE_MAX, found))


def _cap(response: dns.message.Message, ttl: int) -> None:
    """filterRRSlice: no record leaves with a TTL above the time it is cached for."""
    for rrset in (*response.answer, *response.authority, *response.additional):
        rrset.ttl = min(rrset.ttl, ttl)


def _copy(response: dns.message.Message) -> dns.message.Message:
    return dns.message.from_wire(response.to_wire())


def _from_cache(entry: Entry, query: dns.message.Message, now: float) -> dns.message.Message:
    response = _copy(entry.response)
    response.id = query.id
    left = entry.left(now)
    for rrset in (*response.answer, *response.authority, *response.additional):
        rrset.ttl = left
    return response
