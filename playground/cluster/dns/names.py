"""A destination typed as a name (`web`, `web:8080`, `http://web.shop.svc.cluster.local/`,
`example.com:443`) rather than a place of the lab, and the addresses an answer gives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address

import dns.message
import dns.rdatatype

PLACES = ("pod/", "svc/", "node/", "lb/")
SCHEMES = {"http": 80, "https": 443}
LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
NAME = re.compile(rf"{LABEL}(\.{LABEL})*\.?")


@dataclass(frozen=True)
class Destination:
    name: str
    port: int
    scheme: str = ""
    path: str = "/"


def destination(text: str) -> Destination | None:
    """The name and port if `text` is a host name (not a place, not an address)."""
    if text.startswith(PLACES) or text == "internet":
        return None
    scheme, path = "", "/"
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme not in SCHEMES:
            return None
        text, slash, rest = text.partition("/")
        path = slash + rest if slash else "/"
    host, colon, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if colon and not (port_text.isdigit() and 1 <= int(port_text) <= 65535):
        return None
    if not NAME.fullmatch(host) or _is_address(host.rstrip(".")) or host.replace(
            ".", "").isdigit():
        return None
    port = int(port_text) if colon else SCHEMES.get(scheme, 80)
    return Destination(host, port, scheme, path)


def _is_address(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def addresses_in(response: dns.message.Message) -> list[str]:
    """The A records for the question's name, following its CNAME chain (getaddrinfo)."""
    name = response.question[0].name if response.question else None
    found: list[str] = []
    for _ in range(16):  # a CNAME chain longer than this is a loop
        moved = False
        for rrset in response.answer:
            if rrset.name != name:
                continue
            if rrset.rdtype == dns.rdatatype.A:
                found.extend(item.address for item in rrset)
            elif rrset.rdtype == dns.rdatatype.CNAME:
                name, moved = rrset[0].target, True
        if not moved or found:
            break
    return found
