"""Protocol dependencies, as nft adds and removes them: a `tcp dport` needs the packet to
be TCP, so a `meta l4proto tcp` (or `ip protocol tcp`) written just for that is implied
and not listed; in an inet table `reject with tcp reset` gets one added."""

from __future__ import annotations

from playground.net.nftables.expr import Meta, Payload
from playground.net.nftables.stmt import Match, Reject
from playground.net.nftables.types import PROTOCOLS


def _protocol_match(statement) -> int | None:
    """The protocol number a `meta l4proto P` / `ip protocol P` equality tests, if any."""
    if not isinstance(statement, Match) or statement.op != "==" or \
            not isinstance(statement.right, int):
        return None
    left = statement.left
    if isinstance(left, Meta) and left.key == "l4proto" or \
            isinstance(left, Payload) and (left.protocol, left.field) == ("ip", "protocol"):
        return statement.right
    return None


def _nfproto_ipv4(statement) -> bool:
    return isinstance(statement, Match) and isinstance(statement.left, Meta) and \
        statement.left.key == "nfproto" and statement.op == "==" and statement.right == 2


def check_protocols(statements: list) -> None:
    """What nft refuses before the kernel sees it: two transport protocols in one rule,
    and a NAT port with no transport protocol matched before it."""
    seen: int | None = None
    for statement in statements:
        left = getattr(statement, "left", None)
        number = _protocol_match(statement)
        if isinstance(left, Payload) and left.protocol in PROTOCOLS:
            number = PROTOCOLS[left.protocol]
        if number is not None:
            if seen is not None and seen != number:
                names = {v: k for k, v in PROTOCOLS.items()}
                raise ValueError(f"conflicting protocols specified: {names.get(seen, seen)} "
                                 f"vs. {names.get(number, number)}")
            seen = number
        if getattr(statement, "port", None) and seen is None:
            raise ValueError("transport protocol mapping is only valid after transport "
                             "protocol match")


def settle(statements: list, family: str) -> list:
    """The statements as the kernel keeps them and nft lists them."""
    check_protocols(statements)
    kept: list = []
    context: int | None = None       # the index in `kept` of the last protocol match
    nfproto: int | None = None
    for statement in statements:
        left = getattr(statement, "left", None)
        if isinstance(left, Payload) and left.protocol in ("tcp", "udp", "sctp") and \
                context is not None and kept[context].right == PROTOCOLS[left.protocol]:
            del kept[context]
            context = None
        if isinstance(left, Payload) and left.protocol == "ip" and nfproto is not None:
            del kept[nfproto]
            nfproto = None
        if isinstance(statement, Reject):
            if statement.kind == "tcp reset":
                if family == "inet" and (context is None or kept[context].right != 6):
                    kept.append(Match(Meta("l4proto"), "==", 6))
                elif family == "ip" and context is not None and kept[context].right == 6:
                    del kept[context]
            elif statement.kind == "icmp" and nfproto is not None:
                del kept[nfproto]
            context = nfproto = None
        if _protocol_match(statement) is not None:
            context = len(kept)
        elif _nfproto_ipv4(statement) and family == "inet":
            nfproto = len(kept)
        kept.append(statement)
    return kept


def default_reject(family: str) -> Reject:
    return Reject("icmpx" if family == "inet" else "icmp", "port-unreachable", family)

