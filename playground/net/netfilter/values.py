"""What every part of the iptables model shares: names and limits, errors as the tool
prints them, the packet metadata rules read, and parsing of addresses, ports and masks."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


TABLES = ("raw", "mangle", "nat", "filter")
BUILTIN_CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}
# Real iptables-save prints tables in the order their modules were loaded, which differs
# from node to node. Here: filter and nat always, then mangle and raw only when they hold
# something (a rule, a user chain or a DROP policy), so a dump is stable and short.
SAVE_ORDER = ("filter", "nat", "mangle", "raw")
VERSION = "1.8.9"
SAVE_DATE = "Thu Jan  1 00:00:00 1970"
POLICIES = ("ACCEPT", "DROP")
MAX_JUMP_DEPTH = 64
CT_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
# Route types in kernel order (RTN_*): addrtype prints a mask of them in this order.
ADDR_TYPES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
              "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE")
REJECT_TYPES = {
    "icmp-net-unreachable": "icmp-net-unreachable", "net-unreach": "icmp-net-unreachable",
    "icmp-host-unreachable": "icmp-host-unreachable", "host-unreach": "icmp-host-unreachable",
    "icmp-port-unreachable": "icmp-port-unreachable", "port-unreach": "icmp-port-unreachable",
    "icmp-proto-unreachable": "icmp-proto-unreachable",
    "proto-unreach": "icmp-proto-unreachable",
    "icmp-net-prohibited": "icmp-net-prohibited", "net-prohib": "icmp-net-prohibited",
    "icmp-host-prohibited": "icmp-host-prohibited", "host-prohib": "icmp-host-prohibited",
    "icmp-admin-prohibited": "icmp-admin-prohibited", "admin-prohib": "icmp-admin-prohibited",
    "tcp-reset": "tcp-reset", "tcp-rst": "tcp-reset",
}

_PREFIX = f"iptables v{VERSION} (legacy): "
_ENOENT = "No chain/target/match by that name"
_EINVAL = "Invalid argument. Run `dmesg' for more information"
_ELOOP = "Too many levels of symbolic links"
_MASK32 = 0xFFFFFFFF
_PROTOCOLS = {"all": 0, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "dccp": 33, "gre": 47,
              "esp": 50, "ah": 51, "sctp": 132, "udplite": 136}
_PROTO_NAMES = {number: name for name, number in _PROTOCOLS.items() if number}
_PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})
_SERVICES = {"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
             "http": 80, "pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "bgp": 179,
             "https": 443}
_TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20}
# name -> (type, lowest code, highest code); type 0xFF means any.
_ICMP_TYPES = {
    "any": (0xFF, 0, 0xFF), "echo-reply": (0, 0, 0xFF), "pong": (0, 0, 0xFF),
    "destination-unreachable": (3, 0, 0xFF), "network-unreachable": (3, 0, 0),
    "host-unreachable": (3, 1, 1), "protocol-unreachable": (3, 2, 2),
    "port-unreachable": (3, 3, 3), "fragmentation-needed": (3, 4, 4),
    "source-route-failed": (3, 5, 5), "network-unknown": (3, 6, 6),
    "host-unknown": (3, 7, 7), "network-prohibited": (3, 9, 9), "host-prohibited": (3, 10, 10),
    "communication-prohibited": (3, 13, 13), "source-quench": (4, 0, 0xFF),
    "redirect": (5, 0, 0xFF), "echo-request": (8, 0, 0xFF), "ping": (8, 0, 0xFF),
    "router-advertisement": (9, 0, 0xFF), "router-solicitation": (10, 0, 0xFF),
    "time-exceeded": (11, 0, 0xFF), "ttl-exceeded": (11, 0, 0xFF),
    "ttl-zero-during-transit": (11, 0, 0), "ttl-zero-during-reassembly": (11, 1, 1),
    "parameter-problem": (12, 0, 0xFF), "timestamp-request": (13, 0, 0xFF),
    "timestamp-reply": (14, 0, 0xFF),
}
_PLAIN = frozenset(string.ascii_letters + string.digits + "_-")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
_DIGITS = re.compile(r"[0-9]+")
_COUNTERS = re.compile(r"\[([0-9]+):([0-9]+)\]")

class IptablesError(ValueError):
    """What iptables would print, on one line."""


def _param(message: str) -> IptablesError:
    """A usage problem, reported by the iptables binary itself."""
    return IptablesError(_PREFIX + message)


def _kernel(message: str) -> IptablesError:
    """A failure reported back by libiptc or the kernel."""
    return IptablesError(f"iptables: {message}.")


def _no_table(name: str) -> IptablesError:
    return _param(f"can't initialize iptables table `{name}': Table does not exist "
                  "(do you need to insmod?)")


@dataclass(slots=True)
class PacketMeta:
    """skb metadata seen by the rules at one hook; MARK rewrites `mark` in place.

    `ct_state` None means the packet has no conntrack entry, which `--ctstate` sees as
    INVALID, as the kernel does.
    """

    in_dev: str | None = None
    out_dev: str | None = None
    mark: int = 0
    ct_state: str | None = None
    ct_status: frozenset = frozenset()
    local_addresses: frozenset = frozenset()
    rng: random.Random | None = None
    recent: dict | None = None  # the namespace's xt_recent lists: name -> {address: seen at}
    now: float = 0.0
    ipsets: object | None = None  # the namespace's IpSets, for `-m set`
    nfacct: dict | None = None  # the namespace's accounting objects: name -> [packets, bytes]
    phys_in: str | None = None   # the bridge port a bridged packet came in on (br_netfilter)
    phys_out: str | None = None  # the bridge port it leaves by, when the bridge forwards it


def _strtoul(text: str) -> int | None:
    """C strtoul with base 0 (0x hex, leading-0 octal, else decimal); None if not one."""
    if not _NUMBER.fullmatch(text):
        return None
    if text[:2].lower() == "0x":
        return int(text[2:], 16)
    return int(text, 8) if text.startswith("0") else int(text)


def _value_mask(text: str, where: str, allow_mask: bool = True) -> tuple[int, int]:
    value, slash, mask = text.partition("/")
    number = _strtoul(value)
    bits = _strtoul(mask) if slash else _MASK32
    if (number is None or bits is None or number > _MASK32 or bits > _MASK32
            or (slash and not allow_mask)):
        raise _param(f"{where}: bad value \"{text}\"")
    return number, bits


def _port(text: str) -> int:
    number = int(text) if _DIGITS.fullmatch(text) else _SERVICES.get(text)
    if number is None or number > 65535:
        raise _param(f"invalid port/service `{text}' specified")
    return number


def _port_range(text: str) -> tuple[int, int]:
    if ":" not in text:
        number = _port(text)
        return number, number
    low, _, high = text.partition(":")
    first = _port(low) if low else 0
    last = _port(high) if high else 65535
    if first > last:
        raise _param("invalid portrange (min > max)")
    return first, last


def _networks(text: str) -> list[IPv4Network]:
    """`-s`/`-d` values: ADDR[/LEN or /MASK], comma separated; host bits are cleared."""
    return list(_parse_networks(text))


@functools.lru_cache(maxsize=65536)
def _parse_networks(text: str) -> tuple[IPv4Network, ...]:
    found = []
    for part in text.split(","):
        address, slash, mask = part.partition("/")
        try:
            base = IPv4Address(address)
        except ValueError:
            raise _param(f"host/network `{address}' not found") from None
        prefix = 32
        if slash:
            if _DIGITS.fullmatch(mask) and int(mask) <= 32:
                prefix = int(mask)
            else:
                try:
                    prefix = IPv4Network(f"0.0.0.0/{mask}").prefixlen
                except ValueError:
                    raise _param(f"invalid mask `{mask}' specified") from None
        found.append(IPv4Network((int(base), prefix), strict=False))  # int: no re-parse
    return tuple(found)


def _interface(text: str) -> str:
    if len(text) >= 16:
        raise _param(f"interface name `{text}' must be shorter than IFNAMSIZ (16)")
    return text


def _protocol(text: str) -> int:
    name = text.lower()
    if _DIGITS.fullmatch(name) and int(name) <= 255:
        return int(name)
    if name in _PROTOCOLS:
        return _PROTOCOLS[name]
    raise _param(f"unknown protocol \"{text}\" specified")


def save_string(text: str) -> str:
    """xtables_save_string: bare if only [A-Za-z0-9_-], else double-quoted with escapes."""
    if text and all(char in _PLAIN for char in text):
        return text
    escaped = "".join("\\" + char if char in "\"\\'" else char for char in text)
    return f'"{escaped}"'


def _iface_matches(pattern: str, name: str | None) -> bool:
    """Interface names compare exactly; a trailing `+` makes the rest a prefix."""
    name = name or ""
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _tcp_flag_mask(text: str) -> int:
    mask = 0
    for name in text.upper().split(","):
        if name == "ALL":
            mask |= 0x3F
        elif name != "NONE":
            if name not in _TCP_FLAGS:
                raise _param(f"Unknown TCP flag `{name}'")
            mask |= _TCP_FLAGS[name]
    return mask


def _tcp_flag_names(mask: int) -> str:
    return ",".join(n for n, bit in _TCP_FLAGS.items() if mask & bit) or "NONE"


def _packet_tcp_flags(flags: str) -> int:
    return sum(bit for name, bit in _TCP_FLAGS.items()
               if name in re.split(r"[^A-Z]+", flags.upper()))


def _addr_type(address: IPv4Address, local: frozenset) -> str:
    """What inet_addr_type would answer, knowing only the namespace's own addresses."""
    if int(address) in (0, _MASK32):
        return "BROADCAST"
    if address.is_multicast:
        return "MULTICAST"
    if address in local or address.is_loopback:
        return "LOCAL"
    return "UNICAST"


def _ct_bits(meta: PacketMeta) -> int:
    state = meta.ct_state or "INVALID"
    bits = 1 << CT_STATES.index(state) if state in CT_STATES else 1
    for status in ("SNAT", "DNAT"):
        if status in meta.ct_status and state not in ("INVALID", "UNTRACKED"):
            bits |= 1 << CT_STATES.index(status)
    return bits


def _names_of(mask: int, names: tuple[str, ...]) -> str:
    return ",".join(name for bit, name in enumerate(names) if mask & (1 << bit))


def _mask_of(text: str, names: tuple[str, ...], error: str) -> int:
    mask = 0
    for item in text.split(","):
        if item.upper() not in names:
            raise _param(error.format(item))
        mask |= 1 << names.index(item.upper())
    return mask
