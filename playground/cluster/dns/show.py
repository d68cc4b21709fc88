"""DNS messages as people read them: one line for a leg, the fields for a hop's detail, and
the output of `dig` and `nslookup` (BIND 9.18's, checked against the real tools)."""

from __future__ import annotations

import time

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype

from playground.timefmt import LAB_EPOCH

SHOWN = 4  # records in a leg's one line; its fields list them all
DIG_VERSION = "9.18.49-1~deb12u3-Debian"  # dnsutils of Debian 12, as a debugging pod has


def summary(message: dns.message.Message) -> str:
    """`id 4242 A? web.default.svc.cluster.local.` or the answer's status and records."""
    question = message.question[0] if message.question else None
    asked = f"{dns.rdatatype.to_text(question.rdtype)}? {question.name}" \
        if question is not None else "?"
    if not message.flags & dns.flags.QR:
        return f"id {message.id} {asked}"
    records = [f"{dns.rdatatype.to_text(r.rdtype)} {item}" for r in message.answer for item in r]
    status = dns.rcode.to_text(message.rcode())
    shown = records if len(records) <= SHOWN else [*records[:SHOWN - 1],
                                                   f"… {len(records) - SHOWN + 1} more"]
    told = ", ".join(shown) if records else ("NODATA" if status == "NOERROR" else "")
    cut = " truncated (TC)" if message.flags & dns.flags.TC else ""
    return f"id {message.id} {status}{cut} {asked}" + (f" → {told}" if told else "")


def fields(message: dns.message.Message) -> list[str]:
    """The header and sections, for a hop's detail."""
    lines = [f"id {message.id}, opcode {dns.opcode.to_text(message.opcode())}, "
             f"status {dns.rcode.to_text(message.rcode())}, flags "
             f"{dns.flags.to_text(message.flags).lower() or '(none)'}"]
    for title, section in (("question", message.question), ("answer", message.answer),
                           ("authority", message.authority),
                           ("additional", message.additional)):
        for rrset in section:
            text = rrset.to_text(omit_final_dot=False) if title != "question" else \
                f"{rrset.name} IN {dns.rdatatype.to_text(rrset.rdtype)}"
            lines.extend(f"{title}: {line}" for line in text.splitlines())
    return lines


def _header(message: dns.message.Message) -> list[str]:
    counts = (len(message.question), sum(len(r) for r in message.answer),
              sum(len(r) for r in message.authority),
              sum(len(r) for r in message.additional) + (1 if message.edns >= 0 else 0))
    flags = dns.flags.to_text(message.flags).lower()
    lines = [f";; ->>HEADER<<- opcode: {dns.opcode.to_text(message.opcode())}, status: "
             f"{dns.rcode.to_text(message.rcode())}, id: {message.id}",
             f";; flags: {flags}; QUERY: {counts[0]}, ANSWER: {counts[1]}, AUTHORITY: "
             f"{counts[2]}, ADDITIONAL: {counts[3]}"]
    if message.flags & dns.flags.RD and not message.flags & dns.flags.RA:
        lines.append(";; WARNING: recursion requested but not available")
    return lines


def _indent(column: int, to: int) -> tuple[str, int]:
    """BIND's masterdump indent(): tabs to the column, at least one blank."""
    to = max(to, column + 1)
    tabs = to // 8 - column // 8
    if tabs > 0:
        return "\t" * tabs + " " * (to - to // 8 * 8), to
    return " " * (to - column), to


def _columns(fields: list[tuple[str, int]], rest: str = "") -> str:
    """Each field from its column (dig's style: TTL 24, class 32, type 40, data 48)."""
    text, column = "", 0
    for field, target in fields:
        if text:
            gap, column = _indent(column, target)
            text += gap
        text += field
        column += len(field)
    return text + rest


def _record_line(line: str) -> str:
    name, ttl, klass, rdtype, *data = line.split(" ")
    fields = [(name, 0), (ttl, 24), (klass, 32), (rdtype, 40)]
    if data:
        fields.append((" ".join(data), 48))
    return _columns(fields)


def dig(argv: str, message: dns.message.Message | None, server: str, proto: str,
        clock: float, size: int, given_server: bool = False) -> str:
    """What `dig` prints: the answer's sections, or that no server answered."""
    out = ["", f"; <<>> DiG {DIG_VERSION} <<>> {argv}"]
    out += ["; (1 server found)"] if given_server else []
    out.append(";; global options: +cmd")
    if message is None:
        return "\n".join([*out, ";; no servers could be reached"]) + "\n"
    out.append(";; Got answer:")
    question = message.question[0]
    if question.name.to_text().rstrip(".").endswith(".local") or \
            question.name.to_text() == "local.":
        out += [";; WARNING: .local is reserved for Multicast DNS",
                ";; You are currently testing what happens when an mDNS query is leaked to DNS"]
    out += _header(message)
    out.append("")
    if message.edns >= 0:
        out += [";; OPT PSEUDOSECTION:",
                f"; EDNS: version: {message.edns}, flags:; udp: {message.payload}"]
    out.append(";; QUESTION SECTION:")
    rdtype = dns.rdatatype.to_text(question.rdtype)
    out.append(";" + _columns([(question.name.to_text(), 0), ("IN", 32), (rdtype, 40)]))
    for title, section in (("ANSWER", message.answer), ("AUTHORITY", message.authority),
                           ("ADDITIONAL", message.additional)):
        if section:
            out += ["", f";; {title} SECTION:"]
            for rrset in section:
                out += [_record_line(line) for line in
                        rrset.to_text(omit_final_dot=False).splitlines()]
    when = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(LAB_EPOCH + int(clock)))
    out += ["", ";; Query time: 0 msec", f";; SERVER: {server}#53({server}) ({proto.upper()})",
            f";; WHEN: {when}", f";; MSG SIZE  rcvd: {size}", "", ""]
    return "\n".join(out)


def nslookup(name: str, message: dns.message.Message | None, server: str) -> str:
    """What `nslookup NAME` prints for the A answer it settled on."""
    head = f"Server:\t\t{server}\nAddress:\t{server}#53\n\n"
    if message is None:
        return ";; connection timed out; no servers could be reached\n\n"
    rcode = message.rcode()
    if rcode != dns.rcode.NOERROR:
        return head + f"** server can't find {name}: {dns.rcode.to_text(rcode)}\n\n"
    lines = []
    for rrset in message.answer:
        for item in rrset:
            if rrset.rdtype == dns.rdatatype.CNAME:
                lines.append(f"{rrset.name.to_text(omit_final_dot=True)}\tcanonical name = "
                             f"{item.target}")
            elif rrset.rdtype == dns.rdatatype.A:
                lines.append(f"Name:\t{rrset.name.to_text(omit_final_dot=True)}\n"
                             f"Address: {item.address}")
    if not lines:
        return head + f"*** Can't find {name}: No answer\n\n"
    return head + "\n".join(lines) + "\n\n"
