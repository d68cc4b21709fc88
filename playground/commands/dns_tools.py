"""DNS from the selected pod or node: `dig`, `nslookup` and `cat /etc/resolv.conf`, each
query sent through the lab as a trace (the app plays them), the output the real tools'."""

from __future__ import annotations

from ipaddress import IPv4Address

import dns.exception
import dns.flags
import dns.rcode
import dns.rdatatype
import dns.reversename

from playground.cluster.dns import programs
from playground.cluster.dns.show import dig as dig_output
from playground.cluster.dns.show import nslookup as nslookup_output
from playground.cluster.legs import Asking, Leg, lookup, message_size, sender
from playground.commands.base import Call, Command, ShellError, ShellResult, choices

TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "MX", "NS", "SOA", "ANY")
DIG_TRIES = 3  # dig's +tries default over UDP
DIG_EDNS = 1232  # the EDNS UDP size BIND 9.18's dig offers


def _source(shell, call: Call):
    if call.selected is None:
        raise ShellError("select a pod or a node first")
    return sender(shell.cluster, call.selected, call.namespace)


def _errors(found: list[Leg]) -> list[str]:
    """dig's and nslookup's line for each query that got no answer back."""
    lines = []
    for index, leg in enumerate(found):
        if leg.role not in ("dns", "dns-tcp"):
            continue
        after = found[index + 1].role if index + 1 < len(found) else ""
        if not after.startswith((f"{leg.role}-reply", "forwarded-dns")):
            why = "connection refused" if leg.trace.verdict == "rejected" else "timed out"
            lines.append(f";; communications error to {leg.trace.packet.dst}#53: {why}")
    return lines


def _result(output: str, found: list[Leg]) -> ShellResult:
    return ShellResult(output, trace=found[-1].trace if found else None,
                       traces=[leg.trace for leg in found], legs=found)


def _parse_dig(args: list[str]) -> tuple[str, str, Asking, bool]:
    name, qtype, server, short = "", "", "", False
    asking = {"search": False, "attempts": DIG_TRIES, "edns": DIG_EDNS, "proto": "udp"}
    words = iter(args)
    for word in words:
        if word.startswith("@"):
            server = word[1:]
        elif word == "-x":
            address = next(words, "")
            try:
                name, qtype = dns.reversename.from_address(address).to_text(), "PTR"
            except (dns.exception.SyntaxError, ValueError):
                raise ShellError(f"dig: '{address}' is not a legal IPv4 or IPv6 address") \
                    from None
        elif word in ("+search", "+nosearch"):
            asking["search"] = word == "+search"
        elif word in ("+tcp", "+vc"):
            asking["proto"] = "tcp"
        elif word in ("+edns", "+noedns"):
            asking["edns"] = DIG_EDNS if word == "+edns" else -1
        elif word.startswith("+bufsize="):
            asking["edns"] = _bufsize(word)
        elif word == "+short":
            short = True
        elif word.upper() in TYPES and name:
            qtype = word.upper()
        elif word.startswith(("+", "-")):
            raise ShellError(f"dig: {word}: only @SERVER, -x, +search, +tcp, +noedns, "
                             "+bufsize=B and +short are modelled here")
        elif not name:
            name = word
        else:
            raise ShellError(f"dig: one name per query here ({name!r}, then {word!r})")
    if not name:
        raise ShellError("dig: say what to look up: dig NAME [TYPE] [+search]")
    if server:
        asking["servers"] = (server,)
    return name, qtype or "A", Asking(**asking), short


def _bufsize(word: str) -> int:
    text = word.partition("=")[2]
    if not text.isdigit() or int(text) > 65535:
        raise ShellError(f"dig: invalid argument {text}: +bufsize takes 0-65535")
    return int(text)


def _retried(found: list[Leg]) -> list[str]:
    """dig's line when a truncated answer over UDP sends it again over TCP."""
    return [";; Truncated, retrying in TCP mode." for index, leg in enumerate(found)
            if leg.role == "dns-reply" and leg.message.flags & dns.flags.TC
            and leg.trace.packet.proto == "udp" and index + 1 < len(found)]


def dig(shell, call: Call) -> ShellResult:
    name, qtype, asking, short = _parse_dig(call.args)
    _check_servers(asking.servers)
    source = _source(shell, call)
    found, response = lookup(shell.cluster, source, name, qtype, asking)
    errors = _errors(found)
    if short:
        lines = [item.to_text() for rrset in (response.answer if response else [])
                 for item in rrset]
        return _result("\n".join([*errors, *lines]) + ("\n" if errors or lines else ""), found)
    asked = [leg for leg in found if leg.role in ("dns", "dns-tcp")]
    server = str(asked[-1].trace.packet.dst)
    argv = " ".join(call.args)
    answered = [leg for leg in found if leg.role == "dns-reply"]
    size = message_size(answered[-1]) if answered else 0
    proto = answered[-1].trace.packet.proto if answered else asking.proto
    text = dig_output(argv, response, server, proto, shell.cluster.network.clock, size,
                      bool(asking.servers))
    before = [*errors, *_retried(found)]
    return _result("\n".join([*before, text]) if before else text, found)


def _check_servers(servers) -> None:
    for server in servers:
        try:
            IPv4Address(server)
        except ValueError:
            raise ShellError(f"dig: couldn't get address for '{server}': not an IPv4 address "
                             "(names of servers are not looked up here)") from None


def nslookup(shell, call: Call) -> ShellResult:
    if not 1 <= len(call.args) <= 2 or call.args[0].startswith("-"):
        raise ShellError("nslookup: write it as nslookup NAME [SERVER]")
    name = call.args[0]
    servers = tuple(call.args[1:])
    _check_servers(servers)
    source = _source(shell, call)
    asking = Asking(servers=servers, attempts=DIG_TRIES, proto="udp", edns=-1)
    found, response = lookup(shell.cluster, source, name, "A", asking)
    if response is not None and response.rcode() == dns.rcode.NOERROR and response.answer:
        # then its AAAA question for the name the A answer came for, without the search list
        settled = response.question[0].name.to_text()
        more, _ = lookup(shell.cluster, source, settled, "AAAA",
                         Asking(search=False, servers=servers, attempts=DIG_TRIES,
                                proto="udp", edns=-1))
        found = found + more
    conf = programs.resolv_conf(shell.cluster, source.namespace)
    server = servers[0] if servers else conf.nameservers[0]
    errors = _errors(found)
    if response is None:
        return _result("\n".join(errors) + "\n;; no servers could be reached\n\n", found)
    return _result(nslookup_output(name, response, server), found)


def cat(shell, call: Call) -> ShellResult:
    if call.args != ["/etc/resolv.conf"]:
        raise ShellError("cat: only /etc/resolv.conf is modelled here")
    return ShellResult(programs.resolv_conf(shell.cluster, _source(shell, call).namespace)
                       .text())


TITLE = "DNS from the selected pod or node"
COMMANDS = (
    Command("dig", "NAME [TYPE] [@SERVER] [-x ADDRESS] [+search] [+tcp] [+noedns] "
            "[+bufsize=B] [+short]",
            "ask the pod's nameserver, as dig prints it", dig, selection=True, replayed=True,
            complete=choices(*TYPES, "+search", "+short", "+tcp", "+noedns", "-x")),
    Command("nslookup", "NAME [SERVER]", "look a name up through the pod's search list",
            nslookup, selection=True, replayed=True),
    Command("cat", "/etc/resolv.conf", "the resolver's configuration kubelet wrote", cat,
            selection=True, complete=choices("/etc/resolv.conf")),
)
