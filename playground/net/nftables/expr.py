"""What a rule reads from a packet: payload fields, meta and ct keys, fib, numgen,
bitwise operations on them and concatenations of them.

`value(ctx)` is what the kernel would load into its register, or None when it cannot
(a `tcp dport` of a UDP packet): a rule that loads None does not match.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.net.nftables.types import ADDRTYPES, TYPES, DataType

PAYLOAD = {("ip", "saddr"): "ipv4_addr", ("ip", "daddr"): "ipv4_addr",
           ("ip", "protocol"): "inet_proto", ("ip", "ttl"): "integer",
           ("th", "sport"): "inet_service", ("th", "dport"): "inet_service"}
for _proto in ("tcp", "udp", "sctp"):
    PAYLOAD[_proto, "sport"] = PAYLOAD[_proto, "dport"] = "inet_service"
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
META = {"l4proto": "inet_proto", "iifname": "ifname", "oifname": "ifname", "iif": "iface_index",
        "oif": "iface_index", "mark": "mark", "nfproto": "nf_proto", "protocol": "integer",
        "nftrace": "integer", "skuid": "uid"}
UNQUALIFIED_META = ("iifname", "oifname", "iif", "oif")  # printed without `meta`
CT = {"state": "ct_state", "status": "ct_status", "mark": "mark"}
FIB_FLAGS = ("saddr", "daddr", "mark", "iif", "oif")
BINOPS = {"&": "&", "and": "&", "|": "|", "or": "|", "^": "^", "xor": "^"}


class Expr:
    dtype: DataType

    def value(self, ctx):  # pragma: no cover - every expression defines it
        raise NotImplementedError

    def text(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def json(self):  # pragma: no cover
        raise NotImplementedError

    @property
    def parts(self) -> tuple[Expr, ...]:
        return (self,)


@dataclass(frozen=True, slots=True)
class Payload(Expr):
    protocol: str
    field: str

    @property
    def dtype(self) -> DataType:
        return TYPES[PAYLOAD[self.protocol, self.field]]

    def value(self, ctx):
        pkt = ctx.packet
        if self.protocol == "ip":
            if self.field == "saddr":
                return int(pkt.src)
            if self.field == "daddr":
                return int(pkt.dst)
            if self.field == "ttl":
                return pkt.ttl
            return ctx.l4proto
        if pkt.proto not in PORT_PROTOCOLS or (self.protocol != "th"
                                               and pkt.proto != self.protocol):
            return None
        return pkt.sport if self.field == "sport" else pkt.dport

    def text(self) -> str:
        return f"{self.protocol} {self.field}"

    def json(self):
        return {"payload": {"protocol": self.protocol, "field": self.field}}


@dataclass(frozen=True, slots=True)
class Meta(Expr):
    key: str

    @property
    def dtype(self) -> DataType:
        return TYPES[META[self.key]]

    def value(self, ctx):
        key = self.key
        if key == "l4proto":
            return ctx.l4proto
        if key == "mark":
            return ctx.mark
        if key in ("iifname", "iif"):
            return ctx.in_dev
        if key in ("oifname", "oif"):
            return ctx.out_dev
        if key == "nfproto":
            return 2
        if key == "skuid":
            return ctx.skuid
        return 0x0800

    def text(self) -> str:
        return self.key if self.key in UNQUALIFIED_META else f"meta {self.key}"

    def json(self):
        return {"meta": {"key": self.key}}


@dataclass(frozen=True, slots=True)
class Ct(Expr):
    key: str

    @property
    def dtype(self) -> DataType:
        return TYPES[CT[self.key]]

    def value(self, ctx):
        if self.key == "state":
            return ctx.ct_state
        if self.key == "status":
            return ctx.ct_status
        return ctx.ct_mark

    def text(self) -> str:
        return f"ct {self.key}"

    def json(self):
        return {"ct": {"key": self.key}}


@dataclass(frozen=True, slots=True)
class Fib(Expr):
    flags: tuple[str, ...]

    @property
    def dtype(self) -> DataType:
        return TYPES["fib_addrtype"]

    def value(self, ctx):
        address = ctx.packet.src if "saddr" in self.flags else ctx.packet.dst
        return ADDRTYPES.index(ctx.address_type(address))

    def text(self) -> str:
        return f"fib {' . '.join(self.flags)} type"

    def json(self):
        return {"fib": {"result": "type", "flags": list(self.flags)}}


@dataclass(frozen=True, slots=True)
class Numgen(Expr):
    modulus: int
    offset: int = 0

    @property
    def dtype(self) -> DataType:
        return TYPES["integer"]

    def value(self, ctx):
        return ctx.rng.randrange(self.modulus) + self.offset

    def text(self) -> str:
        offset = f" offset {self.offset}" if self.offset else ""
        return f"numgen random mod {self.modulus}{offset}"

    def json(self):
        return {"numgen": {"mode": "random", "mod": self.modulus, "offset": self.offset}}


@dataclass(frozen=True, slots=True)
class Binop(Expr):
    op: str            # & | ^
    left: Expr
    right: int

    @property
    def dtype(self) -> DataType:
        return self.left.dtype

    def value(self, ctx):
        left = self.left.value(ctx)
        if left is None:
            return None
        if self.op == "&":
            return left & self.right
        return left | self.right if self.op == "|" else left ^ self.right

    def text(self) -> str:
        return f"{self.left.text()} {self.op} {self.dtype.show(self.right)}"

    def json(self):
        return {self.op: [self.left.json(), self.right]}


@dataclass(frozen=True, slots=True)
class Concat(Expr):
    items: tuple[Expr, ...]

    @property
    def dtype(self) -> DataType:
        return self.items[0].dtype

    @property
    def parts(self) -> tuple[Expr, ...]:
        return self.items

    def value(self, ctx):
        values = tuple(item.value(ctx) for item in self.items)
        return None if None in values else values

    def text(self) -> str:
        return " . ".join(item.text() for item in self.items)

    def json(self):
        return {"concat": [item.json() for item in self.items]}
