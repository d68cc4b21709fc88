"""A rule's statements: matches, lookups, verdict maps, counters, marks, NAT, reject,
queue, log and set updates, each printed as `nft list` prints it and as libnftables JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.net.nftables.expr import Binop, Ct, Expr, Meta
from playground.net.nftables.sets import NftSet, Verdict

FLAG_TYPES = ("ct_state", "ct_status")
REJECT_ICMP = {"net-unreachable": "icmp-net-unreachable",
               "host-unreachable": "icmp-host-unreachable",
               "prot-unreachable": "icmp-proto-unreachable",
               "port-unreachable": "icmp-port-unreachable",
               "net-prohibited": "icmp-net-prohibited",
               "host-prohibited": "icmp-host-prohibited",
               "admin-prohibited": "icmp-admin-prohibited"}
REJECT_ICMPX = {"no-route": "icmp-net-unreachable", "port-unreachable": "icmp-port-unreachable",
                "host-unreachable": "icmp-host-unreachable",
                "admin-prohibited": "icmp-admin-prohibited"}


@dataclass(frozen=True, slots=True)
class SetRef:
    """`@name`: a named set of the rule's table."""

    name: str

    def text(self) -> str:
        return f"@{self.name}"


def _set_text(target) -> str:
    if isinstance(target, SetRef):
        return target.text()
    return "{ " + ", ".join(target.element_text(e, 0.0) for e in target.live(0.0)) + " }"


def _set_json(target):
    if isinstance(target, SetRef):
        return target.text()
    items = []
    for element in target.live(0.0):
        key = target.key_json(element)
        items.append([key, element.data.json()] if target.is_map else key)
    return {"set": items}


@dataclass(slots=True)
class Match:
    left: Expr
    op: str                 # "==", "!=", "<", ">", "<=", ">=" or "implicit"
    right: object           # a value, an Interval, a SetRef or an anonymous NftSet

    def text(self) -> str:
        shown = self.op in ("!=", "<", ">", "<=", ">=") or (
            self.op == "==" and isinstance(self.left, Binop))
        op = f" {self.op}" if shown else ""
        return f"{self.left.text()}{op} {self.right_text()}"

    def right_text(self) -> str:
        right = self.right
        if isinstance(right, SetRef | NftSet):
            return _set_text(right)
        if isinstance(right, tuple):
            return " . ".join(p.dtype.show(v) for p, v in zip(self.left.parts, right,
                                                               strict=True))
        if self.op == "!=" and self.left.dtype.name in FLAG_TYPES:
            return self.left.dtype.show(right).replace(",", " | ")
        return self.left.dtype.show(right)

    def json(self):
        right = self.right
        if isinstance(right, SetRef | NftSet):
            shown = _set_json(right)
        elif isinstance(right, tuple):
            shown = {"concat": [p.dtype.json(v) for p, v in zip(self.left.parts, right,
                                                               strict=True)]}
        else:
            shown = self.left.dtype.json(right)
            if self.op == "!=" and isinstance(shown, list):
                shown = {"|": shown}   # `!= a | b`, as nft reads the flags back
        op = self.op if self.op != "implicit" else "=="
        if self.left.dtype.name in FLAG_TYPES and self.op in ("implicit", "=="):
            op = "in"
        return {"match": {"op": op, "left": self.left.json(), "right": shown}}


@dataclass(slots=True)
class Vmap:
    key: Expr
    target: object          # SetRef or an anonymous map

    def text(self) -> str:
        return f"{self.key.text()} vmap {_set_text(self.target)}"

    def json(self):
        return {"vmap": {"key": self.key.json(), "data": _set_json(self.target)}}


@dataclass(slots=True)
class VerdictStmt:
    verdict: Verdict

    def text(self) -> str:
        return self.verdict.text()

    def json(self):
        return self.verdict.json()


@dataclass(slots=True)
class Counter:
    packets: int = 0
    bytes: int = 0

    def text(self) -> str:
        return f"counter packets {self.packets} bytes {self.bytes}"

    def json(self):
        return {"counter": {"packets": self.packets, "bytes": self.bytes}}


@dataclass(slots=True)
class Log:
    prefix: str | None = None

    def text(self) -> str:
        return f'log prefix "{self.prefix}"' if self.prefix is not None else "log"

    def json(self):
        return {"log": {"prefix": self.prefix} if self.prefix is not None else None}


@dataclass(slots=True)
class Mangle:
    """`meta mark set EXPR`, `ct mark set EXPR`."""

    key: Meta | Ct
    value: object           # an int or an expression of the mark

    def text(self) -> str:
        value = self.value if isinstance(self.value, Expr) else None
        shown = value.text() if value is not None else self.key.dtype.show(self.value)
        return f"{self.key.text()} set {shown}"

    def json(self):
        value = self.value.json() if isinstance(self.value, Expr) else self.value
        return {"mangle": {"key": self.key.json(), "value": value}}


@dataclass(slots=True)
class Nat:
    kind: str               # dnat, snat, masquerade
    address: int | None = None
    port: tuple[int, int] | None = None
    flags: tuple[str, ...] = ()
    family: str | None = None   # `dnat ip to` in an inet table

    def text(self) -> str:
        words = [self.kind]
        if self.kind != "masquerade":
            words.append(f"{self.family} to" if self.family else "to")
            where = str(IPv4Address(self.address)) if self.address is not None else ""
            words[-1] += " " + where + (f":{self._ports()}" if self.port else "")
        elif self.port:
            words.append(f"to :{self._ports()}")
        words += self.flags
        return " ".join(words)

    def _ports(self) -> str:
        low, high = self.port
        return str(low) if low == high else f"{low}-{high}"

    def json(self):
        body = {}
        if self.family:
            body["family"] = self.family
        if self.address is not None:
            body["addr"] = str(IPv4Address(self.address))
        if self.port:
            low, high = self.port
            body["port"] = low if low == high else {"range": [low, high]}
        if self.flags:
            body["flags"] = self.flags[0] if len(self.flags) == 1 else list(self.flags)
        return {self.kind: body or None}


@dataclass(slots=True)
class Reject:
    kind: str | None = None     # None (the default), icmp, icmpx, tcp reset
    code: str | None = None
    family: str = "ip"

    @property
    def sends(self) -> str:
        """What the walk's reject stage is told to send."""
        if self.kind == "tcp reset":
            return "tcp-reset"
        table = REJECT_ICMPX if self.kind == "icmpx" else REJECT_ICMP
        return table.get(self.code or "port-unreachable", "icmp-port-unreachable")

    def text(self) -> str:
        if self.kind is None:
            return "reject"
        if self.kind == "tcp reset":
            return "reject with tcp reset"
        default = "icmpx" if self.family == "inet" else "icmp"
        if self.kind == default and self.code == "port-unreachable":
            return "reject"
        return f"reject with {self.kind} {self.code}"

    def json(self):
        if self.kind == "tcp reset":
            return {"reject": {"type": "tcp reset"}}
        return {"reject": {"type": self.kind, "expr": self.code}}


@dataclass(slots=True)
class Queue:
    low: int = 0
    high: int = 0
    flags: tuple[str, ...] = ()

    def text(self) -> str:
        number = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        flags = " " + ",".join(self.flags) if self.flags else ""
        return f"queue{flags} to {number}" if self.flags else f"queue to {number}"

    def json(self):
        body = {"num": self.low if self.low == self.high else {"range": [self.low, self.high]}}
        if self.flags:
            body["flags"] = self.flags[0] if len(self.flags) == 1 else list(self.flags)
        return {"queue": body}


@dataclass(slots=True)
class SetUpdate:
    op: str                 # add, update
    key: Expr
    target: SetRef
    timeout: float | None = None

    def text(self) -> str:
        return f"{self.op} {self.target.text()} {{ {self.key.text()} }}"

    def json(self):
        return {"set": {"op": self.op, "elem": self.key.json(), "set": self.target.text()}}


@dataclass(slots=True)
class Notrack:
    def text(self) -> str:
        return "notrack"

    def json(self):
        return {"notrack": None}


@dataclass(slots=True)
class Rule:
    statements: list
    handle: int = 0
    comment: str | None = None
    _targets: list | None = field(default=None, repr=False)   # the chains it may go to

    def text(self) -> str:
        """The rule as `nft list` prints it (the counters move, so only the rest is kept)."""
        words = [s.text() for s in self.statements]
        if self.comment is not None:
            words.append(f'comment "{self.comment}"')
        return " ".join(words)

    def json_exprs(self) -> list:
        return [s.json() for s in self.statements]
