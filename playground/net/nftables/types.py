"""nft's data types: how a literal of each is read, printed, keyed and shown in JSON.

A value is held as the kernel compares it, an int (a string for interface names); a
prefix or range literal becomes an Interval. `sort_bytes` is what nft sorts a listed
set's elements by (for a concatenation, the parts' bytes read as one little-endian number).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.net.nftables.errors import NftError

PROTOCOLS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmpv6": 58,
             "sctp": 132, "dccp": 33, "udplite": 136, "esp": 50, "ah": 51, "gre": 47}
PROTOCOL_NAMES = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp",
                  33: "dccp", 136: "udplite", 50: "esp", 51: "ah", 47: "gre"}
SERVICES = {"ssh": 22, "domain": 53, "http": 80, "https": 443, "ntp": 123, "smtp": 25,
            "telnet": 23, "ftp": 21, "bootps": 67, "bootpc": 68}
CT_STATES = {"invalid": 1, "established": 2, "related": 4, "new": 8, "untracked": 64}
CT_STATUS = {"expected": 1, "seen-reply": 2, "assured": 4, "confirmed": 8, "snat": 16,
             "dnat": 32, "dying": 512}
ADDRTYPES = ("unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole",
             "unreachable", "prohibit")
NFPROTOS = {"ipv4": 2, "ipv6": 10}


@dataclass(frozen=True, slots=True)
class Interval:
    """A prefix (`10.0.0.0/8`, kept as written) or a range (`1-1024`), inclusive."""

    low: int
    high: int
    prefix: int | None = None   # the length, when written as a prefix

    def __contains__(self, value) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class DataType:
    name: str
    width: int        # bytes in the kernel's register
    big_endian: bool
    line: int = 1     # elements per line in a listed set (nft's calculate_delim)

    def parse(self, text: str, token=None) -> int | str | Interval:
        try:
            return _PARSERS[self.name](text)
        except (ValueError, KeyError):
            pass
        raise NftError(_unknown(self, text), *_where(token))

    def show(self, value) -> str:
        if isinstance(value, Interval):
            if value.prefix is not None:
                return f"{self.show(value.low)}/{value.prefix}"
            return f"{self.show(value.low)}-{self.show(value.high)}"
        return _SHOW.get(self.name, str)(value)

    def json(self, value):
        if isinstance(value, Interval):
            if value.prefix is not None:
                return {"prefix": {"addr": self.json(value.low), "len": value.prefix}}
            return {"range": [self.json(value.low), self.json(value.high)]}
        return _JSON.get(self.name, lambda v: v)(value)

    def sort_bytes(self, value) -> bytes:
        number = value.low if isinstance(value, Interval) else value
        if isinstance(number, str):
            return number.encode().ljust(self.width, b"\0")[:self.width]
        return int(number).to_bytes(self.width, "big" if self.big_endian else "little")


def _where(token) -> tuple:
    return ("", 0, 0, 0) if token is None else (token.source, token.line, token.start,
                                                token.stop)


def _unknown(dtype: DataType, text: str) -> str:
    names = {"ipv4_addr": "Could not resolve hostname: Name or service not known",
             "inet_service": "Could not resolve service: Servname not supported for "
                             "ai_socktype",
             "inet_proto": "Could not resolve protocol name"}
    return names.get(dtype.name, f"Could not parse {DESCRIPTIONS.get(dtype.name, dtype.name)}")


DESCRIPTIONS = {"mark": "packet mark", "ct_state": "conntrack state", "integer": "integer",
                "ct_status": "conntrack status", "fib_addrtype": "fib address type",
                "ifname": "network interface name", "verdict": "netfilter verdict"}


def _number(text: str) -> int:
    value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    if value < 0:
        raise ValueError(text)
    return value


def _ipv4(text: str) -> int | Interval:
    if "/" in text:
        net = IPv4Network(text, strict=False)
        return Interval(int(net.network_address), int(net.broadcast_address), net.prefixlen)
    if "-" in text:
        low, high = (int(IPv4Address(part)) for part in text.split("-", 1))
        if low > high:
            raise ValueError(text)
        size = high - low + 1
        if size & (size - 1) == 0 and low % size == 0:   # nft shows it as the prefix it is
            return Interval(low, high, 32 - size.bit_length() + 1)
        return Interval(low, high)
    return int(IPv4Address(text))


def _ranged(parse_one):
    def parse(text: str):
        if "-" in text and not text.startswith("-"):
            low, high = (parse_one(part) for part in text.split("-", 1))
            if low > high:
                raise ValueError(text)
            return Interval(low, high)
        return parse_one(text)
    return parse


def _service(text: str) -> int:
    value = SERVICES[text] if text in SERVICES else _number(text)
    if value > 65535:
        raise ValueError(text)
    return value


def _proto(text: str) -> int:
    value = PROTOCOLS[text] if text in PROTOCOLS else _number(text)
    if value > 255:
        raise ValueError(text)
    return value


def _flags(table: dict[str, int]):
    def parse(text: str) -> int:
        value = 0
        for word in text.split(","):
            value |= table[word] if word in table else _number(word)
        return value
    return parse


def _show_flags(table: dict[str, int]):
    def show(value: int) -> str:
        return ",".join(name for name, bit in table.items() if value & bit)
    return show


def _json_flags(table: dict[str, int]):
    def json(value: int):
        names = [name for name, bit in table.items() if value & bit]
        return names[0] if len(names) == 1 else names
    return json


def _mark(text: str) -> int:
    value = _number(text)
    if value > 0xFFFFFFFF:
        raise ValueError(text)
    return value


def _ifname(text: str) -> str:
    if len(text) > 15:
        raise ValueError(text)
    return text


def _addrtype(text: str) -> int:
    return ADDRTYPES.index(text)


def _uid(text: str) -> int:
    value = 0 if text == "root" else _number(text)   # the model's processes are all root
    if value > 0xFFFFFFFF:
        raise ValueError(text)
    return value


def _nfproto(text: str) -> int:
    return NFPROTOS[text] if text in NFPROTOS else _number(text)


_PARSERS = {
    "ipv4_addr": _ipv4, "inet_service": _ranged(_service), "inet_proto": _proto,
    "mark": _ranged(_mark), "integer": _ranged(_number), "ifname": _ifname,
    "iface_index": _ifname, "ct_state": _flags(CT_STATES), "ct_status": _flags(CT_STATUS),
    "fib_addrtype": _addrtype, "nf_proto": _nfproto, "uid": _uid,
}
_SHOW = {
    "ipv4_addr": lambda v: str(IPv4Address(v)),
    "inet_proto": lambda v: PROTOCOL_NAMES.get(v, str(v)),
    "mark": lambda v: f"0x{v:08x}",
    "ifname": lambda v: f'"{v}"', "iface_index": lambda v: f'"{v}"',
    "ct_state": _show_flags(CT_STATES), "ct_status": _show_flags(CT_STATUS),
    "fib_addrtype": lambda v: ADDRTYPES[v],
    "nf_proto": lambda v: {2: "ipv4", 10: "ipv6"}.get(v, str(v)),
}
_JSON = {
    "ipv4_addr": lambda v: str(IPv4Address(v)),
    "inet_proto": lambda v: PROTOCOL_NAMES.get(v, v),
    "ct_state": _json_flags(CT_STATES), "ct_status": _json_flags(CT_STATUS),
    "fib_addrtype": lambda v: ADDRTYPES[v],
    "nf_proto": lambda v: {2: "ipv4", 10: "ipv6"}.get(v, v),
}

TYPES = {t.name: t for t in (
    DataType("ipv4_addr", 4, True, 2), DataType("inet_service", 2, True, 5),
    DataType("inet_proto", 1, True, 5), DataType("mark", 4, False, 5),
    DataType("integer", 4, False, 5), DataType("ifname", 16, True),
    DataType("iface_index", 4, False, 5), DataType("ct_state", 4, False, 2),
    DataType("ct_status", 4, False, 2), DataType("fib_addrtype", 4, False),
    DataType("nf_proto", 1, False, 5), DataType("verdict", 4, False),
    DataType("uid", 4, False, 5),
)}
SET_TYPES = ("ipv4_addr", "inet_service", "inet_proto", "mark", "ifname", "iface_index",
             "integer", "ct_state", "ct_status")


def set_type(name: str, token=None) -> DataType:
    if name not in SET_TYPES:
        raise NftError(f"unknown datatype {name}", *_where(token))
    return TYPES[name]
