"""One CoreDNS server, the program its pods run, configured by the Corefile of the coredns
ConfigMap (corefile.py), its plugins chained in plugin.cfg's order: cache, then kubernetes,
then forward. kubeadm's Corefile:

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

The Corefile is read when the program first serves, then, as the `reload` plugin does,
every reload interval on the lab clock (its jitter left out); one that does not parse
leaves the config running and logs the error (an Event here). Without `reload` an edit
waits for a restart. All the coredns pods share one config, reloaded at the same moment.

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
import dns.name
import dns.rcode
import dns.rdatatype

from playground.cluster.dns.corefile import DEFAULT_CONFIG, Config, CorefileError, parse
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

    def __init__(self, kubernetes: Kubernetes, rng: random.Random,
                 corefile: Callable[[], str | None] = lambda: None,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.kubernetes = kubernetes
        self.rng = rng
        self.caches: dict[str, dict[tuple[str, int], Entry]] = {}
        self.corefile, self.log = corefile, log   # the ConfigMap's text; where errors go
        self.config: Config = DEFAULT_CONFIG
        self.text: str | None = None      # the Corefile the running config came from
        self.next_check: float | None = None

    def follow(self, now: float) -> Config:
        """The config in effect at `now`: read at the first query, then at each reload."""
        if self.next_check is not None and (self.config.reload is None or
                                            now < self.next_check):
            return self.config
        first = self.next_check is None
        text = self.corefile()
        if text is not None and text != self.text:
            self.text = text   # reload.go: the same wrong file is not tried again
            try:
                config = parse(text)
            except CorefileError as error:
                self.log(f"[ERROR] {'' if first else 'Corefile changed but reload failed: '}"
                         f"{error}")
            else:
                self._use(config)
        step = self.config.reload
        if step is None:
            self.next_check = now   # never looked at again
        elif first:
            self.next_check = now + step
        else:   # the next tick of the reload timer after `now`
            self.next_check += step * (int((now - self.next_check) // step) + 1)
        return self.config

    def _use(self, config: Config) -> None:
        self.config = config
        if config.zone is not None:
            self.kubernetes.zone = dns.name.from_text(config.zone)
        self.kubernetes.ttl = config.ttl
        self.caches.clear()   # a reload starts new plugin instances, the cache empty

    def serve(self, pod: str, query: dns.message.Message, now: float,
              forward: Forward) -> Served:
        config = self.follow(now)
        if config.cache is None:
            response, how = self._resolve(query, forward)
            return Served(response, how)
        question = query.question[0]
        key = (question.name.to_text().lower(), question.rdtype)
        cache = self.caches.setdefault(pod, {})
        entry = cache.get(key)
        if entry is not None and entry.left(now) > 0:
            return Served(_from_cache(entry, query, now), "cache")
        response, how = self._resolve(query, forward)
        ttl = cache_ttl(response, config.cache)
        cache[key] = Entry(_copy(response), now, ttl)
        _cap(response, ttl)
        return Served(response, how)

    def _resolve(self, query: dns.message.Message, forward: Forward):
        question = query.question[0]
        if self.config.zone is not None and \
                zone_of(question.name, self.kubernetes.zone) is not None:
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
        upstream = forward(query) if self.config.forward is not None else None
        if upstream is None:
            failed = dns.message.make_response(query, our_payload=query.payload)
            failed.set_rcode(dns.rcode.SERVFAIL)
            return failed, "forward"
        upstream.id = query.id
        self._shuffle(upstream)
        return upstream, "forward"

    def _shuffle(self, response: dns.message.Message) -> None:
        """loadbalance round_robin: the order of the A records of each answer shuffled."""
        if not self.config.loadbalance:
            return
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.A and len(rrset) > 1:
                items = list(rrset)
                self.rng.shuffle(items)
                rrset.clear()
                for item in items:
                    rrset.add(item)


def cache_ttl(response: dns.message.Message, most: int = CACHE_MAX) -> int:
    """cache.go minMsgTTL and computeTTL; `most` is the Corefile's `cache TTL`."""
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
    return max(min(CACHE_MIN, most), min(most, found))


def _cap(response: dns.message.Message, ttl: int) -> None:
    """filterRRSlice: no record leaves with a TTL above the time it is cached for."""
    for rrset in (*response.answer, *response.authority, *response.additional):
        rrset.ttl = min(rrset.ttl, ttl)


def _copy(response: dns.message.Message) -> dns.message.Message:
    return dns.message.from_wire(response.to_wire(want_shuffle=False))


def _from_cache(entry: Entry, query: dns.message.Message, now: float) -> dns.message.Message:
    response = _copy(entry.response)
    response.id = query.id
    left = entry.left(now)
    for rrset in (*response.answer, *response.authority, *response.additional):
        rrset.ttl = left
    return response
