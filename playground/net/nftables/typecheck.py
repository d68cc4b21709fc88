"""nft's type checks of a rule against the named sets and maps it uses."""

from __future__ import annotations

from playground.net.nftables.sets import NftSet
from playground.net.nftables.stmt import Match, SetRef, SetUpdate, Vmap

NAMES = {"ipv4_addr": "IPv4 address", "inet_proto": "Internet protocol",
         "inet_service": "internet network service", "mark": "packet mark",
         "ifname": "network interface name", "iface_index": "network interface index",
         "ct_state": "conntrack state", "ct_status": "conntrack status",
         "integer": "integer", "nf_proto": "netfilter protocol",
         "fib_addrtype": "fib address type", "verdict": "netfilter verdict"}


def described(types) -> str:
    names = [NAMES.get(t.name, t.name) for t in types]
    return names[0] if len(names) == 1 else f"concatenation of ({', '.join(names)})"


def _types(expr) -> tuple:
    return tuple(part.dtype for part in expr.parts)


def check(statements: list, sets: dict[str, NftSet]) -> None:
    """Raise ValueError with nft's sentence when a lookup's key does not fit its set."""
    for statement in statements:
        if isinstance(statement, Match) and isinstance(statement.right, SetRef):
            named = sets[statement.right.name]
            if _types(statement.left) != named.key_types:
                raise ValueError(f"datatype mismatch, expected {described(_types(statement.left))}"
                                 f", expression has type {described(named.key_types)}")
        elif isinstance(statement, Vmap) and isinstance(statement.target, SetRef):
            named = sets[statement.target.name]
            if not named.is_map or named.data_type.name != "verdict":
                raise ValueError("Expression is not a map")
            if _types(statement.key) != named.key_types:
                raise ValueError(f"datatype mismatch, map expects {described(named.key_types)}, "
                                 f"mapping expression has type {described(_types(statement.key))}")
        elif isinstance(statement, SetUpdate):
            named = sets[statement.target.name]
            if _types(statement.key) != named.key_types:
                raise ValueError(f"datatype mismatch: expected {described(named.key_types)}, "
                                 f"expression has type {described(_types(statement.key))}")
