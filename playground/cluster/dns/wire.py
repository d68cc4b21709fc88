"""A DNS answer as a server puts it on the wire: CoreDNS's ScrubWriter fits it to the
client's buffer (request.Scrub over miekg/dns's Msg.Truncate), and over TCP every message
goes behind a two-byte length (RFC 1035 4.2.2, RFC 7766).

Followed: CoreDNS v1.11.1 request/request.go (Scrub, Size) and plugin/pkg/edns (Size), with
miekg/dns v1.1.55 msg_truncate.go, its go.mod's version. The buffer is 64 KiB over TCP, else
the query's EDNS UDP size, at least 512 (no EDNS: 512). A message that fits uncompressed goes
uncompressed (over UDP compressed past 1480 bytes); one that does not is compressed and keeps
as many records as fit, section by section in order, the first that does not fit ending it,
and the TC bit set if any was left out: the answer is cut inside its RRset, not emptied.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.renderer

UDP_MIN = 512        # dns.MinMsgSize
TCP_MAX = 65535      # dns.MaxMsgSize
UDP_COMPRESS = 1480  # Scrub's last try to keep an IPv4 datagram from fragmenting
SECTIONS = ((dns.renderer.ANSWER, "answer"), (dns.renderer.AUTHORITY, "authority"),
            (dns.renderer.ADDITIONAL, "additional"))


def buffer_size(query: dns.message.Message, proto: str) -> int:
    """edns.Size: what the client can take in one message."""
    if proto == "tcp":
        return TCP_MAX
    return max(query.payload if query.edns >= 0 else 0, UDP_MIN)


def render(message: dns.message.Message, compress: bool = True) -> bytes:
    """The message's bytes; names written in full when `compress` is off (miekg's default,
    which dnspython's to_wire does not offer)."""
    out = dns.renderer.Renderer(message.id, message.flags, TCP_MAX)
    if not compress:
        out.compress = None   # Name.to_wire compresses only into a table it is given
    for question in message.question:
        out.add_question(question.name, question.rdtype, question.rdclass)
    for section, name in SECTIONS:
        for rrset in getattr(message, name):
            out.add_rrset(section, rrset, want_shuffle=False)   # the server's order
    if message.edns >= 0:
        out.add_edns(message.edns, message.ednsflags, message.payload, message.options)
    out.write_header()
    return out.get_wire()


def scrub(response: dns.message.Message, query: dns.message.Message, proto: str) -> bytes:
    """The bytes of `response` as CoreDNS sends it to the client of `query`."""
    size = buffer_size(query, proto)
    plain = render(response, compress=False)
    if len(plain) <= size:
        return render(response) if proto == "udp" and len(plain) > UDP_COMPRESS else plain
    whole = render(response)
    if len(whole) <= size:
        return whole
    return render(_truncated(response, size))


def _truncated(response: dns.message.Message, size: int) -> dns.message.Message:
    """truncateLoop: records kept one by one while the compressed message fits."""
    kept = _copy_without_records(response)
    for _, name in SECTIONS:
        for rrset in getattr(response, name):
            for item in rrset:
                target = kept.find_rrset(getattr(kept, name), rrset.name, rrset.rdclass,
                                         rrset.rdtype, create=True)
                target.update_ttl(rrset.ttl)
                target.add(item)
                if len(render(kept)) > size:
                    target.discard(item)
                    if not target:
                        getattr(kept, name).remove(target)
                    kept.flags |= dns.flags.TC
                    return kept
    return kept


def _copy_without_records(response: dns.message.Message) -> dns.message.Message:
    copy = dns.message.Message(response.id)
    copy.flags = response.flags
    copy.question = list(response.question)
    copy.use_edns(response.edns, response.ednsflags, response.payload,
                  options=response.options)
    return copy


def framed(data: bytes) -> bytes:
    """A message over TCP: its length in two bytes, then the message."""
    return len(data).to_bytes(2, "big") + data
