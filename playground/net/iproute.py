"""`ip route add` and `ip route del` on a namespace, with iproute2's words and errors."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.net.netns import Namespace
from playground.net.route import ROUTE_TYPES, SCOPES, Route, RouteError

USAGE = ("Usage: ip route { add | del } [ TYPE ] PREFIX [ via ADDRESS ] [ dev STRING ] "
         "[ metric NUMBER ] [ onlink ]")


def _prefix(text: str) -> IPv4Network:
    if text == "default":
        return IPv4Network("0.0.0.0/0")
    try:
        return IPv4Network(text if "/" in text else f"{text}/32")
    except ValueError as error:
        if "host bits set" in str(error):
            raise RouteError("Error: Invalid prefix for given prefix length.") from None
        raise RouteError(f'Error: inet prefix is expected rather than "{text}".') from None


def _address(text: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise RouteError(f'Error: inet address is expected rather than "{text}".') from None


def _parse(words: list[str]) -> tuple[IPv4Network, dict]:
    """PREFIX and the keywords after it, as Route fields."""
    fields: dict = {}
    words = list(words)
    if words and words[0] in ROUTE_TYPES:
        fields["type"] = words.pop(0)
    if not words:
        raise RouteError(USAGE)
    prefix = _prefix(words.pop(0))
    while words:
        word = words.pop(0)
        if word == "onlink":
            fields["onlink"] = True
            continue
        if word not in ("via", "dev", "metric", "proto", "scope", "src") or not words:
            raise RouteError(f'Error: either "to" is duplicate, or "{word}" is a garbage.')
        value = words.pop(0)
        if word in ("via", "src"):
            fields[word] = _address(value)
        elif word == "metric":
            if not (value.isascii() and value.isdigit()) or len(value) > 10 or \
                    int(value) > 0xFFFFFFFF:  # ASCII digits only: "5²" passes isdigit()
                raise RouteError('Error: "metric" value is invalid')
            fields["metric"] = int(value)
        elif word == "scope" and value not in SCOPES:
            raise RouteError(f'Error: argument "{value}" is wrong: invalid "scope" value')
        else:
            fields[word] = value
    return prefix, fields


def ip_route_change(ns: Namespace, verb: str, words: list[str]) -> None:
    """Apply `ip route VERB WORDS...` to `ns`; RouteError says what iproute2 would."""
    prefix, fields = _parse(words)
    if verb == "add":
        if fields.get("type", "unicast") == "unicast" and not (
                fields.get("dev") or fields.get("via")):
            raise RouteError("Error: Device for nexthop is not specified.")
        if "dev" in fields and fields["dev"] not in ns.devices:
            raise RouteError(f'Cannot find device "{fields["dev"]}"')
        ns.add_route(Route(prefix, **fields))
    elif verb in ("del", "delete"):
        match = {key: fields[key] for key in ("via", "dev", "metric", "type") if key in fields}
        ns.main.delete(prefix, **match)
    else:
        raise RouteError(USAGE)
