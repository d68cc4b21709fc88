"""Netfilter as iptables (legacy, 1.8 syntax) shows it: tables, chains, rules and counters.

Rules come in as iptables arguments or `iptables-restore` text and go out the way
`iptables-save` prints them, so a dump of the model reads like one taken from a real node.
`Netfilter.run_chain` walks a built-in chain the way the kernel's ipt_do_table does: a
jump pushes a return point, a goto does not, RETURN pops, and returning from (or falling
off) the built-in chain hands the packet to the chain policy.

Some checks real iptables only meets when the kernel loads the table (jump loops, a target
used from a hook or table it does not support) are made here when a rule is added, or at
COMMIT for iptables-restore, with the message the real tool prints.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import re
import shlex
import string
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network

from playground.net.chains import Chains
from playground.net.packet import PROTO_NUMBERS, Packet

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
_STANDARD = frozenset({"ACCEPT", "DROP", "RETURN"})
_TERMINAL = frozenset({"ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE"})
# Extension targets: option spelling -> number of arguments.
_TARGET_OPTIONS: dict[str, dict[str, int]] = {
    "REJECT": {"--reject-with": 1},
    "MARK": {"--set-xmark": 1, "--set-mark": 1, "--and-mark": 1, "--or-mark": 1,
             "--xor-mark": 1},
    "DNAT": {"--to-destination": 1, "--random": 0, "--persistent": 0},
    "SNAT": {"--to-source": 1, "--random": 0, "--random-fully": 0, "--persistent": 0},
    "MASQUERADE": {"--to-ports": 1, "--random": 0, "--random-fully": 0},
    "NOTRACK": {},
    "CT": {"--notrack": 0},
}
_TARGETS = _STANDARD | set(_TARGET_OPTIONS)
# Where the kernel accepts a target: (table, hooks the chain may be reached from).
_TARGET_PLACES = {
    "DNAT": ("nat", frozenset({"PREROUTING", "OUTPUT"})),
    "SNAT": ("nat", frozenset({"INPUT", "POSTROUTING"})),
    "MASQUERADE": ("nat", frozenset({"POSTROUTING"})),
    "REJECT": ("filter", frozenset({"INPUT", "FORWARD", "OUTPUT"})),
    "NOTRACK": ("raw", frozenset({"PREROUTING", "OUTPUT"})),
    "CT": ("raw", frozenset({"PREROUTING", "OUTPUT"})),
}
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


# ---------------------------------------------------------------------------- values


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


# ---------------------------------------------------------------------------- matches


class Match:
    """One `-m NAME` module: its options, its save text and its test on a packet."""

    __slots__ = ()
    NAME = ""
    # option spelling -> (canonical name, number of arguments, may be negated with !)
    OPTIONS: dict[str, tuple[str, int, bool]] = {}

    @property
    def name(self) -> str:
        return self.NAME

    def options(self) -> dict[str, tuple[str, int, bool]]:
        return self.OPTIONS

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        raise NotImplementedError

    def finish(self, rule: Rule) -> None:
        """Check the module against the whole rule, as userspace and checkentry do."""

    def save(self) -> str:
        raise NotImplementedError

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        raise NotImplementedError

    def clone(self) -> Match:
        return copy.copy(self)


@dataclass(slots=True)
class CommentMatch(Match):
    NAME = "comment"
    OPTIONS = {"--comment": ("comment", 1, False)}
    comment: str | None = None

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if len(args[0]) > 255:
            raise _param("comment: option \"--comment\" must be no longer than 255 characters")
        self.comment = args[0]

    def finish(self, rule: Rule) -> None:
        if self.comment is None:
            raise _param("comment: option \"--comment\" must be specified")

    def save(self) -> str:
        return f"--comment {save_string(self.comment or '')}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return True


_PORT_OPTIONS = {"--sport": ("sport", 1, True), "--source-port": ("sport", 1, True),
                 "--dport": ("dport", 1, True), "--destination-port": ("dport", 1, True)}
_TCP_OPTIONS = {**_PORT_OPTIONS, "--tcp-flags": ("tcp-flags", 2, True),
                "--syn": ("syn", 0, True)}


@dataclass(slots=True)
class PortMatch(Match):
    """`-m tcp` / `-m udp`: port ranges (and TCP flags for tcp)."""

    proto: str = "tcp"
    sport: tuple[int, int] = (0, 65535)
    sport_inv: bool = False
    dport: tuple[int, int] = (0, 65535)
    dport_inv: bool = False
    flags_mask: int = 0
    flags_cmp: int = 0
    flags_inv: bool = False

    @property
    def name(self) -> str:
        return self.proto

    def options(self) -> dict[str, tuple[str, int, bool]]:
        return _TCP_OPTIONS if self.proto == "tcp" else _PORT_OPTIONS

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option == "sport":
            self.sport, self.sport_inv = _port_range(args[0]), invert
        elif option == "dport":
            self.dport, self.dport_inv = _port_range(args[0]), invert
        else:
            if self.flags_mask:
                raise _param("Only one of `--syn' or `--tcp-flags'  may be specified")
            if option == "syn":
                self.flags_mask, self.flags_cmp = 0x17, 0x02  # FIN,SYN,RST,ACK SYN
            else:
                self.flags_mask, self.flags_cmp = _tcp_flag_mask(args[0]), _tcp_flag_mask(args[1])
            self.flags_inv = invert

    def finish(self, rule: Rule) -> None:
        if rule.proto != PROTO_NUMBERS[self.proto] or rule.proto_inv:
            raise _kernel(_EINVAL)

    def save(self) -> str:
        parts = []
        for label, (low, high), inverted in (("--sport", self.sport, self.sport_inv),
                                             ("--dport", self.dport, self.dport_inv)):
            if (low, high) != (0, 65535):
                ports = str(low) if low == high else f"{low}:{high}"
                parts.append(("! " if inverted else "") + f"{label} {ports}")
        if self.flags_mask or self.flags_inv:
            parts.append(("! " if self.flags_inv else "") + "--tcp-flags "
                         f"{_tcp_flag_names(self.flags_mask)} {_tcp_flag_names(self.flags_cmp)}")
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if (self.sport[0] <= pkt.sport <= self.sport[1]) == self.sport_inv:
            return False
        if (self.dport[0] <= pkt.dport <= self.dport[1]) == self.dport_inv:
            return False
        if self.flags_mask or self.flags_inv:
            hit = _packet_tcp_flags(pkt.flags) & self.flags_mask == self.flags_cmp
            return hit != self.flags_inv
        return True


@dataclass(slots=True)
class IcmpMatch(Match):
    NAME = "icmp"
    OPTIONS = {"--icmp-type": ("icmp-type", 1, True)}
    icmp_type: int = 0xFF
    code_min: int = 0
    code_max: int = 0xFF
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        text = args[0]
        if text.lower() in _ICMP_TYPES:
            self.icmp_type, self.code_min, self.code_max = _ICMP_TYPES[text.lower()]
        else:
            kind, slash, code = text.partition("/")
            if (not _DIGITS.fullmatch(kind) or int(kind) > 255
                    or (slash and (not _DIGITS.fullmatch(code) or int(code) > 255))):
                raise _param(f"Invalid ICMP type `{text}'")
            self.icmp_type = int(kind)
            self.code_min, self.code_max = (int(code), int(code)) if slash else (0, 0xFF)
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if rule.proto != PROTO_NUMBERS["icmp"] or rule.proto_inv:
            raise _kernel(_EINVAL)

    def save(self) -> str:
        text = "--icmp-type any" if self.icmp_type == 0xFF else f"--icmp-type {self.icmp_type}"
        if self.icmp_type != 0xFF and (self.code_min, self.code_max) != (0, 0xFF):
            text += f"/{self.code_min}"
        return ("! " if self.inv else "") + text

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        hit = self.icmp_type == 0xFF or (
            pkt.icmp_type == self.icmp_type and self.code_min <= pkt.icmp_code <= self.code_max)
        return hit != self.inv


@dataclass(slots=True)
class MarkMatch(Match):
    NAME = "mark"
    OPTIONS = {"--mark": ("mark", 1, True)}
    mark: int | None = None
    mask: int = _MASK32
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        self.mark, self.mask = _value_mask(args[0], "mark")
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if self.mark is None:
            raise _param("mark: option \"--mark\" must be specified")

    def save(self) -> str:
        value = f"0x{self.mark:x}" + (f"/0x{self.mask:x}" if self.mask != _MASK32 else "")
        return ("! " if self.inv else "") + f"--mark {value}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return ((meta.mark & self.mask) == self.mark) != self.inv


@dataclass(slots=True)
class ConntrackMatch(Match):
    NAME = "conntrack"
    OPTIONS = {"--ctstate": ("ctstate", 1, True)}
    states: int | None = None
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        self.states = _mask_of(args[0], CT_STATES, "Bad ctstate \"{}\"")
        self.inv = invert

    def finish(self, rule: Rule) -> None:
        if self.states is None:
            raise _param("conntrack: At least one option is required")

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--ctstate {_names_of(self.states, CT_STATES)}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        return bool(self.states & _ct_bits(meta)) != self.inv


@dataclass(slots=True)
class AddrtypeMatch(Match):
    NAME = "addrtype"
    OPTIONS = {"--src-type": ("src-type", 1, True), "--dst-type": ("dst-type", 1, True),
               "--limit-iface-in": ("limit-iface-in", 0, False),
               "--limit-iface-out": ("limit-iface-out", 0, False)}
    src_types: int = 0
    src_inv: bool = False
    dst_types: int = 0
    dst_inv: bool = False
    limit_in: bool = False
    limit_out: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option == "src-type":
            self.src_types = _mask_of(args[0], ADDR_TYPES, "addrtype: bad type `{}'")
            self.src_inv = invert
        elif option == "dst-type":
            self.dst_types = _mask_of(args[0], ADDR_TYPES, "addrtype: bad type `{}'")
            self.dst_inv = invert
        elif option == "limit-iface-in":
            self.limit_in = True
        else:
            self.limit_out = True

    def finish(self, rule: Rule) -> None:
        if not (self.src_types or self.dst_types):
            raise _param("addrtype: you must specify --src-type or --dst-type")

    def save(self) -> str:
        parts = []
        if self.src_types:
            parts.append(("! " if self.src_inv else "")
                         + f"--src-type {_names_of(self.src_types, ADDR_TYPES)}")
        if self.dst_types:
            parts.append(("! " if self.dst_inv else "")
                         + f"--dst-type {_names_of(self.dst_types, ADDR_TYPES)}")
        parts += ["--limit-iface-in"] * self.limit_in + ["--limit-iface-out"] * self.limit_out
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        for types, inverted, address in ((self.src_types, self.src_inv, pkt.src),
                                         (self.dst_types, self.dst_inv, pkt.dst)):
            if types:
                bit = 1 << ADDR_TYPES.index(_addr_type(address, meta.local_addresses))
                if bool(types & bit) == inverted:
                    return False
        return True


@dataclass(slots=True)
class StatisticMatch(Match):
    """`-m statistic`: random keeps lround(p * 2**31); nth keeps a running counter."""

    NAME = "statistic"
    OPTIONS = {"--mode": ("mode", 1, False), "--probability": ("probability", 1, True),
               "--every": ("every", 1, True), "--packet": ("packet", 1, False)}
    mode: str | None = None
    inv: bool = False
    probability: int | None = None   # threshold on 31 random bits
    every: int | None = None          # stored as N-1, like the kernel
    packet: int | None = None
    count: int = field(default=0, compare=False)

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        text = args[0]
        self.inv = self.inv or invert
        if option == "mode":
            if text not in ("random", "nth"):
                raise _param(f"Bad mode \"{text}\"")
            self.mode = text
        elif option == "probability":
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not 0.0 <= value <= 1.0:
                raise _param(f"statistic: bad value for option \"--probability\": \"{text}\"")
            self.probability = math.floor(value * 0x80000000 + 0.5)  # C lround
        else:
            number = int(text) if _DIGITS.fullmatch(text) else None
            if number is None or number > _MASK32 or (option == "every" and number < 1):
                raise _param(f"statistic: bad value for option \"--{option}\": \"{text}\"")
            if option == "every":
                self.every = number - 1
            else:
                self.packet = number

    def finish(self, rule: Rule) -> None:
        if self.mode is None:
            raise _param("statistic: option \"--mode\" must be specified")
        if self.probability is not None and self.mode != "random":
            raise _param("--probability can only be used in random mode")
        if (self.every is not None or self.packet is not None) and self.mode != "nth":
            raise _param("--every can only be used in nth mode")
        if self.mode == "random" and self.probability is None:
            raise _param("--probability must be specified when using random mode")
        if self.mode == "nth":
            if self.every is None and self.packet is None:
                raise _param("--every and --packet must be specified when using nth mode")
            self.every, self.packet = self.every or 0, self.packet or 0
            if self.packet > self.every:
                raise _param("the --packet p must be 0 <= p <= n-1")
            self.count = self.every - self.packet

    def save(self) -> str:
        bang = " !" if self.inv else ""
        if self.mode == "random":
            return f"--mode random{bang} --probability {self.probability / 0x80000000:.11f}"
        text = f"--mode nth{bang} --every {self.every + 1}"
        return text + (f" --packet {self.packet}" if self.packet else "")

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if self.mode == "random":
            draw = (meta.rng or random).getrandbits(31)
            return (draw < self.probability) != self.inv
        self.count = 0 if self.count == self.every else self.count + 1
        return (self.count == 0) != self.inv


@dataclass(slots=True)
class MultiportMatch(Match):
    NAME = "multiport"
    OPTIONS = {"--sports": ("sports", 1, True), "--source-ports": ("sports", 1, True),
               "--dports": ("dports", 1, True), "--destination-ports": ("dports", 1, True),
               "--ports": ("ports", 1, True)}
    kind: str | None = None
    ports: tuple[tuple[int, int], ...] = ()
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if self.kind is not None:
            raise _param("multiport can only have one option")
        ranges = tuple(_port_range(item) for item in args[0].split(","))
        if sum(1 if low == high else 2 for low, high in ranges) > 15:
            raise _param("too many ports specified")
        self.kind, self.ports, self.inv = option, ranges, invert

    def finish(self, rule: Rule) -> None:
        if rule.proto not in _PORT_PROTOCOLS or rule.proto_inv:
            raise _param("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or "
                         "`-p dccp'")
        if self.kind is None:
            raise _param("multiport expects an option")

    def save(self) -> str:
        ports = ",".join(str(low) if low == high else f"{low}:{high}"
                         for low, high in self.ports)
        return ("! " if self.inv else "") + f"--{self.kind} {ports}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        wanted = {"sports": (pkt.sport,), "dports": (pkt.dport,),
                  "ports": (pkt.sport, pkt.dport)}[self.kind]
        hit = any(low <= port <= high for port in wanted for low, high in self.ports)
        return hit != self.inv


@dataclass(slots=True)
class RecentMatch(Match):
    """`-m recent`: remembers addresses in named lists (kube-proxy's session affinity)."""

    NAME = "recent"
    OPTIONS = {"--set": ("set", 0, True), "--rcheck": ("rcheck", 0, True),
               "--update": ("update", 0, True), "--remove": ("remove", 0, True),
               "--seconds": ("seconds", 1, False), "--reap": ("reap", 0, False),
               "--name": ("name", 1, False), "--mask": ("mask", 1, False),
               "--rsource": ("rsource", 0, False), "--rdest": ("rdest", 0, False)}
    action: str | None = None
    inv: bool = False
    seconds: int | None = None
    reap: bool = False
    list_name: str = "DEFAULT"
    mask: IPv4Address = IPv4Address("255.255.255.255")
    side: str = "rsource"

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        if option in ("set", "rcheck", "update", "remove"):
            if self.action is not None:
                raise _param("recent: only one of --set, --rcheck, --update or --remove "
                             "may be given")
            self.action, self.inv = option, invert
        elif option == "seconds":
            if not _DIGITS.fullmatch(args[0]):
                raise _param(f"recent: bad value for option \"--seconds\": \"{args[0]}\"")
            self.seconds = int(args[0])
        elif option == "reap":
            self.reap = True
        elif option == "name":
            self.list_name = args[0]
        elif option == "mask":
            try:
                self.mask = IPv4Address(args[0])
            except ValueError:
                raise _param(f"recent: bad value for option \"--mask\": \"{args[0]}\"") \
                    from None
        else:
            self.side = option

    def finish(self, rule: Rule) -> None:
        if self.action is None:
            raise _param("recent: you must specify one of `--set', `--rcheck', `--update' "
                         "or `--remove'")
        if (self.seconds is not None or self.reap) and self.action not in ("rcheck", "update"):
            raise _param("recent: --seconds and --reap only go with --rcheck or --update")
        if self.reap and self.seconds is None:
            raise _param("recent: --reap needs --seconds")

    def save(self) -> str:
        parts = [("! " if self.inv else "") + f"--{self.action}"]
        if self.seconds is not None:
            parts.append(f"--seconds {self.seconds}")
        if self.reap:
            parts.append("--reap")
        parts += [f"--name {self.list_name}", f"--mask {self.mask}", f"--{self.side}"]
        return " ".join(parts)

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        if meta.recent is None:
            return self.inv
        seen = meta.recent.setdefault(self.list_name, {})
        address = IPv4Address(int(pkt.src if self.side == "rsource" else pkt.dst)
                              & int(self.mask))
        if self.action == "set":
            seen[address] = meta.now
            return not self.inv
        when = seen.get(address)
        fresh = when is not None and (self.seconds is None or meta.now - when <= self.seconds)
        if self.reap and when is not None and not fresh:
            del seen[address]
        if fresh and self.action == "update":
            seen[address] = meta.now
        if fresh and self.action == "remove":
            del seen[address]
        return fresh != self.inv


@dataclass(slots=True)
class SetMatch(Match):
    """`-m set --match-set NAME FLAGS`: is the packet, read as FLAGS, a member of an ipset?"""

    NAME = "set"
    OPTIONS = {"--match-set": ("match-set", 2, True)}
    set_name: str | None = None
    flags: str = ""
    inv: bool = False

    def parse(self, option: str, args: list[str], invert: bool) -> None:
        flags = args[1].split(",")
        if not 1 <= len(flags) <= 6 or any(f not in ("src", "dst") for f in flags):
            raise _param(f"set: You must specify (the comma separated list of) 'src' or "
                         f"'dst' (got \"{args[1]}\")")
        self.set_name, self.flags, self.inv = args[0], args[1], invert

    def finish(self, rule: Rule) -> None:
        if self.set_name is None:
            raise _param("set: You must specify `--match-set' with proper arguments")

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--match-set {self.set_name} {self.flags}"

    def test(self, pkt: Packet, meta: PacketMeta) -> bool:
        found = meta.ipsets.get(self.set_name) if meta.ipsets is not None else None
        return (found is not None and found.contains(pkt, self.flags.split(","))) != self.inv


_MATCHES = {
    "comment": CommentMatch, "tcp": lambda: PortMatch("tcp"), "udp": lambda: PortMatch("udp"),
    "icmp": IcmpMatch, "mark": MarkMatch, "conntrack": ConntrackMatch,
    "addrtype": AddrtypeMatch, "statistic": StatisticMatch, "multiport": MultiportMatch,
    "recent": RecentMatch, "set": SetMatch,
}


# ---------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class Target:
    """What `-j`/`-g` names: a verdict, an extension target or a user chain."""

    name: str
    mark: int = 0           # MARK: mark = (mark & ~mask) ^ value
    mask: int = 0
    to_address: IPv4Address | None = None       # DNAT / SNAT
    ports: tuple[int, int] | None = None        # DNAT / SNAT port, MASQUERADE --to-ports
    reject_with: str | None = None
    random: bool = False
    random_fully: bool = False
    persistent: bool = False
    notrack: bool = False   # CT --notrack

    @property
    def is_chain(self) -> bool:
        return self.name not in _TARGETS

    def save(self) -> str:
        name = self.name
        if name == "MARK":
            return f"--set-xmark 0x{self.mark:x}/0x{self.mask:x}"
        if name == "REJECT":
            return f"--reject-with {self.reject_with}"
        if name == "CT":
            return "--notrack" if self.notrack else ""
        parts = []
        if name in ("DNAT", "SNAT"):
            where = str(self.to_address) if self.to_address else ""
            parts.append(("--to-destination " if name == "DNAT" else "--to-source ")
                         + where + (f":{self._ports()}" if self.ports else ""))
        elif name == "MASQUERADE" and self.ports:
            parts.append(f"--to-ports {self._ports()}")
        flags = (("--random", self.random), ("--random-fully", self.random_fully),
                 ("--persistent", self.persistent))
        parts += [flag for flag, on in flags if on]
        return " ".join(parts)

    def _ports(self) -> str:
        low, high = self.ports
        return str(low) if low == high else f"{low}-{high}"


def _nat_ports(text: str) -> tuple[int, int]:
    low, dash, high = text.partition("-")
    ports = []
    for item in (low, high) if dash else (low,):
        if not _DIGITS.fullmatch(item) or not 0 < int(item) <= 65535:
            raise _param(f"Port \"{text}\" not valid")
        ports.append(int(item))
    if ports[0] > ports[-1]:
        raise _param(f"Port range \"{text}\" not valid")
    return ports[0], ports[-1]


def _build_target(name: str, opts: dict[str, str | None], rule: Rule) -> Target:
    """Turn `-j NAME` and the options given after it into a Target, checked like the tool."""
    if name not in _TARGET_OPTIONS:
        return Target(name)
    ports_ok = rule.proto in _PORT_PROTOCOLS and not rule.proto_inv
    flags = {key.strip("-").replace("-", "_"): True for key, value in opts.items()
             if value is None}
    if name == "REJECT":
        kind = opts.get("--reject-with") or "icmp-port-unreachable"
        if kind not in REJECT_TYPES:
            raise _param(f"unknown reject type \"{kind}\"")
        if REJECT_TYPES[kind] == "tcp-reset" and (rule.proto != 6 or rule.proto_inv):
            raise _kernel(_EINVAL)
        return Target(name, reject_with=REJECT_TYPES[kind])
    if name == "MARK":
        if len(opts) != 1:
            raise _param("MARK target: Exactly one of --set-xmark, --set-mark, --and-mark, "
                         "--or-mark or --xor-mark is required")
        (option, text), = opts.items()
        if option in ("--set-xmark", "--set-mark"):
            value, mask = _value_mask(text, "MARK")
            return Target(name, mark=value, mask=mask if option == "--set-xmark" else value | mask)
        value, _ = _value_mask(text, "MARK", allow_mask=False)
        mark, mask = {"--and-mark": (0, ~value & _MASK32), "--or-mark": (value, value),
                      "--xor-mark": (value, 0)}[option]
        return Target(name, mark=mark, mask=mask)
    if name in ("NOTRACK", "CT"):
        return Target(name, **flags)
    if name == "MASQUERADE":
        ports = _nat_ports(opts["--to-ports"]) if opts.get("--to-ports") else None
        if ports and not ports_ok:
            raise _param("Need TCP, UDP, SCTP or DCCP with port specification")
        return Target(name, ports=ports, **flags)
    option = "--to-destination" if name == "DNAT" else "--to-source"
    spec = opts.get(option)
    if not spec:
        raise _param(f"You must specify {option}")
    address_text, colon, port_text = spec.partition(":")
    address = None
    if address_text:
        try:
            address = IPv4Address(address_text)
        except ValueError:
            raise _param(f"Bad IP address \"{address_text}\"") from None
    ports = _nat_ports(port_text) if colon else None
    if ports and not ports_ok:
        raise _param("Need TCP, UDP, SCTP or DCCP with port specification")
    return Target(name, to_address=address, ports=ports, **flags)


# ---------------------------------------------------------------------------- rules


@dataclass(slots=True)
class Rule:
    """One rule as the kernel holds it; `text(chain)` is its iptables-save line.

    Treat a rule as immutable once added (only the counters move): its save text is
    cached and is what -D and -C compare, as iptables compares the binary rule.
    """

    src: IPv4Network | None = None
    src_inv: bool = False
    dst: IPv4Network | None = None
    dst_inv: bool = False
    in_iface: str | None = None
    in_inv: bool = False
    out_iface: str | None = None
    out_inv: bool = False
    proto: int = 0
    proto_inv: bool = False
    matches: list[Match] = field(default_factory=list)
    target: Target | None = None
    goto: bool = False
    packets: int = field(default=0, compare=False)
    bytes: int = field(default=0, compare=False)
    _spec: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def comment(self) -> str | None:
        return next((m.comment for m in self.matches if isinstance(m, CommentMatch)), None)

    def spec(self) -> str:
        """The rule without `-A CHAIN`, in the order iptables-save prints it."""
        if self._spec is None:
            self._spec = self._render()
        return self._spec

    def _render(self) -> str:
        parts = []
        for flag, net, inverted in (("-s", self.src, self.src_inv),
                                    ("-d", self.dst, self.dst_inv)):
            if net is not None and (net.prefixlen or int(net.network_address) or inverted):
                parts.append(("! " if inverted else "") + f"{flag} {net}")
        for flag, name, inverted in (("-i", self.in_iface, self.in_inv),
                                     ("-o", self.out_iface, self.out_inv)):
            if name:
                parts.append(("! " if inverted else "") + f"{flag} {name}")
        if self.proto:
            proto = _PROTO_NAMES.get(self.proto, str(self.proto))
            parts.append(("! " if self.proto_inv else "") + f"-p {proto}")
        for match in self.matches:
            parts.append(f"-m {match.name}")
            options = match.save()
            if options:
                parts.append(options)
        if self.target is not None:
            parts.append(f"-{'g' if self.goto else 'j'} {self.target.name}")
            options = self.target.save()
            if options:
                parts.append(options)
        return " ".join(parts)

    def text(self, chain: str) -> str:
        spec = self.spec()
        return f"-A {chain} {spec}" if spec else f"-A {chain}"

    def match_packet(self, pkt: Packet, meta: PacketMeta) -> bool:
        """The IP header part first, then each module in order, stopping at the first miss."""
        if self.src is not None and (pkt.src in self.src) == self.src_inv:
            return False
        if self.dst is not None and (pkt.dst in self.dst) == self.dst_inv:
            return False
        if self.in_iface and _iface_matches(self.in_iface, meta.in_dev) == self.in_inv:
            return False
        if self.out_iface and _iface_matches(self.out_iface, meta.out_dev) == self.out_inv:
            return False
        if self.proto and (PROTO_NUMBERS.get(pkt.proto) == self.proto) == self.proto_inv:
            return False
        return all(match.test(pkt, meta) for match in self.matches)

    def clone(self) -> Rule:
        return replace(self, matches=[match.clone() for match in self.matches])


@dataclass(slots=True)
class Chain:
    """A chain; built-in chains have a policy (and its counters), user chains have None."""

    name: str
    policy: str | None = None
    rules: list[Rule] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0
    shared: bool = False   # held once for many tables: its counters live per table
    version: int = 0       # bumped on every change of `rules`, for the index
    _index: DstIndex | None = field(default=None, repr=False, compare=False)
    _text: tuple[int, str] | None = field(default=None, repr=False, compare=False)
    _header: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    def clone(self) -> Chain:
        return Chain(self.name, self.policy, [r.clone() for r in self.rules],
                     self.packets, self.bytes)

    def changed(self) -> None:
        self.version += 1

    @property
    def parsed(self) -> bool:
        """Whether the rules exist as Rule objects (a SavedChain may hold only its text)."""
        return True

    def target_names(self) -> list[str | None]:
        """Each rule's -j/-g name (None for none): what the loop check and -X look at."""
        return [r.target.name if r.target is not None else None for r in self.rules]

    def uses_module(self, name: str) -> bool:
        """Whether some rule loads the match module `name` (`-m set`, ...)."""
        return any(match.name == name for rule in self.rules for match in rule.matches)

    def header(self) -> str:
        """A user chain's `:NAME - [0:0]` line, made once per name."""
        if self._header is None or self._header[0] != self.name:
            self._header = (self.name, f":{self.name} - [0:0]\n")
        return self._header[1]

    def save_text(self) -> str:
        """The chain's iptables-save lines (no counters), kept until the chain changes: a
        shared chain is rendered once for every table that shows it."""
        if self._text is None or self._text[0] != self.version:
            name = self.name
            self._text = (self.version, "".join(rule.text(name) + "\n" for rule in self.rules))
        return self._text[1]

    def index(self) -> DstIndex | None:
        """Where each destination's rules are, for a long chain (None for a short one)."""
        if len(self.rules) < INDEX_MIN_RULES:
            return None
        if self._index is None or self._index.version != self.version:
            self._index = DstIndex(self.rules, self.version)
        return self._index


INDEX_MIN_RULES = 32


def _chain_name(chain: Chain) -> str:
    return chain.name


class DstIndex:
    """The positions of the rules that could match a destination address: those for that
    exact /32 and those that name no single destination. Every other rule fails on its
    -d before any match runs (the kernel checks the IP header first), so skipping it
    changes nothing but the time taken; the skipped rules still count as walked."""

    __slots__ = ("version", "by_dst", "wild")

    def __init__(self, rules: list[Rule], version: int) -> None:
        self.version = version
        self.by_dst: dict[int, list[int]] = {}
        self.wild: list[int] = []
        for position, rule in enumerate(rules):
            dst = rule.dst
            if dst is not None and dst.prefixlen == 32 and not rule.dst_inv:
                self.by_dst.setdefault(int(dst.network_address), []).append(position)
            else:
                self.wild.append(position)

    def next_candidate(self, dst: int, start: int) -> int | None:
        """The first position at or after `start` whose rule might match `dst`."""
        best = None
        for positions in (self.by_dst.get(dst), self.wild):
            if positions:
                at = bisect_left(positions, start)
                if at < len(positions) and (best is None or positions[at] < best):
                    best = positions[at]
        return best


@dataclass(slots=True)
class Table:
    """Chains in kernel order: built-ins first, then user chains as they were created."""

    name: str
    chains: Chains = field(default_factory=Chains)

    @classmethod
    def fresh(cls, name: str) -> Table:
        return cls(name, Chains({chain: Chain(chain, "ACCEPT")
                                 for chain in BUILTIN_CHAINS[name]}))

    def ordered(self) -> list[Chain]:
        """The order iptables-save uses: built-ins, then user chains by name."""
        chains = self.chains
        users = [c for c in chains.own.values() if not c.builtin]
        if chains.shared is not None:   # already sorted: sorting the two runs is linear
            skip = chains.own.keys() | chains.hidden
            layer = chains.shared.chains
            users += [layer[name] for name in chains.shared.sorted_names() if name not in skip]
        users.sort(key=_chain_name)
        return [c for c in chains.own.values() if c.builtin] + users

    def references(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for chain in self.chains.values():
            for name in chain.target_names():
                if name is not None and name not in _TARGETS:
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def clone(self) -> Table:
        return Table(self.name, self.chains.layered(
            {name: c.clone() for name, c in self.chains.own.items()}))


@dataclass(slots=True)
class Verdict:
    """How one table's traversal ended, and the rules that led there."""

    action: str
    table: str
    chain: str
    rule: Rule | None
    rule_index: int | None
    to_address: IPv4Address | None = None
    to_port: int | None = None
    reject_with: str | None = None
    random_fully: bool = False
    matched: list[tuple[str, int, str]] = field(default_factory=list)
    rules_walked: int = 0

    def rule_text(self) -> str:
        if self.rule is None:
            return f"-P {self.chain} {self.action}"
        return self.rule.text(self.chain)


# ---------------------------------------------------------------------------- argv parsing

_COMMANDS = {
    "-A": "A", "--append": "A", "-C": "C", "--check": "C", "-D": "D", "--delete": "D",
    "-I": "I", "--insert": "I", "-R": "R", "--replace": "R", "-L": "L", "--list": "L",
    "-S": "S", "--list-rules": "S", "-F": "F", "--flush": "F", "-Z": "Z", "--zero": "Z",
    "-N": "N", "--new-chain": "N", "-X": "X", "--delete-chain": "X", "-P": "P",
    "--policy": "P", "-E": "E", "--rename-chain": "E",
}
_GENERIC = {
    "-s": "s", "--source": "s", "--src": "s", "-d": "d", "--destination": "d", "--dst": "d",
    "-i": "i", "--in-interface": "i", "-o": "o", "--out-interface": "o", "-p": "p",
    "--protocol": "p", "-m": "m", "--match": "m", "-j": "j", "--jump": "j", "-g": "g",
    "--goto": "g", "-t": "t", "--table": "t", "-c": "c", "--set-counters": "c",
    "-W": "W", "--wait-interval": "W", "--modprobe": "M",
}
_IGNORED_FLAGS = {"-v", "--verbose", "-n", "--numeric", "-x", "--exact", "--line-numbers"}
_SHORT_WITH_ARG = {"-A", "-C", "-D", "-I", "-R", "-N", "-P", "-E", "-s", "-d", "-i", "-o",
                   "-p", "-m", "-j", "-g", "-t", "-W"}
_RULE_COMMANDS = ("A", "C", "D", "I", "R")


@dataclass(slots=True)
class _Command:
    op: str = ""
    table: str = "filter"
    chain: str | None = None
    rulenum: int | None = None
    extra: str | None = None       # -P policy, -E new name
    rules: list[Rule] = field(default_factory=list)


class _ArgvParser:
    """Reads iptables arguments left to right, as getopt and iptables' do_parse do."""

    def __init__(self, args: list[str], in_restore: bool) -> None:
        self.args, self.pos, self.in_restore = list(args), 0, in_restore
        self.cmd = _Command()
        self.invert = False
        self.rule = Rule()
        self.srcs: list[IPv4Network] = []
        self.dsts: list[IPv4Network] = []
        self.seen: set[str] = set()
        self.spec_options: list[str] = []
        self.matches: list[Match] = []
        self.match_seen: dict[int, set[str]] = {}
        self.proto_loaded = False
        self.target: str | None = None
        self.target_opts: dict[str, str | None] = {}
        self.counters: tuple[int, int] | None = None

    def run(self) -> _Command:
        while self.pos < len(self.args):
            token = self.args[self.pos]
            self.pos += 1
            if token == "!":
                if self.invert:
                    raise _param("multiple consecutive ! not allowed")
                self.invert = True
                continue
            if not token.startswith("-") or token in ("-", "--"):
                raise _param(f"Bad argument `{token}'")
            if token.startswith("--") and "=" in token:
                token, value = token.split("=", 1)
                self.args.insert(self.pos, value)
            elif not token.startswith("--") and len(token) > 2:
                if token[:2] not in _SHORT_WITH_ARG:
                    raise _param(f"unknown option \"{token}\"")
                self.args.insert(self.pos, token[2:])
                token = token[:2]
            self._option(token)
        if self.invert:
            raise _param("nothing appropriate following !")
        return self._finish()

    # token helpers

    def _take(self, option: str) -> str:
        if self.pos >= len(self.args):
            raise _param(f"option \"{option}\" requires an argument")
        self.pos += 1
        return self.args[self.pos - 1]

    def _maybe(self) -> str | None:
        """An optional argument: the next token unless it looks like an option."""
        if self.pos < len(self.args) and not self.args[self.pos].startswith(("-", "!")):
            self.pos += 1
            return self.args[self.pos - 1]
        return None

    def _no_invert(self, option: str) -> None:
        if self.invert:
            raise _param(f"cannot have ! before {option}")

    @staticmethod
    def _rulenum(text: str) -> int:
        if not _DIGITS.fullmatch(text) or int(text) < 1:
            raise _param(f"Invalid rule number `{text}'")
        return int(text)

    # options

    def _option(self, option: str) -> None:
        if option in _COMMANDS:
            self._command(_COMMANDS[option], option)
        elif option in _GENERIC:
            self._generic(_GENERIC[option], option)
        elif option in _IGNORED_FLAGS:
            self._no_invert(option)
        elif option in ("-w", "--wait"):
            self._no_invert(option)
            if self.pos < len(self.args) and re.fullmatch(r"[0-9.]+", self.args[self.pos]):
                self.pos += 1
        else:
            self._extension(option)

    def _command(self, op: str, option: str) -> None:
        self._no_invert(option)
        if self.cmd.op:
            raise _param(f"Cannot use -{op} with -{self.cmd.op}")
        self.cmd.op = op
        if op in ("A", "C", "D", "I", "R", "N", "P", "E"):
            self.cmd.chain = self._take(option)
        else:
            self.cmd.chain = self._maybe()
        if op == "R":
            self.cmd.rulenum = self._rulenum(self._take(option))
        elif op in ("D", "I", "Z", "L", "S") and self.cmd.chain is not None:
            number = self._maybe()
            if number is not None:
                self.cmd.rulenum = self._rulenum(number)
        if op in ("P", "E"):
            self.cmd.extra = self._take(option)

    def _generic(self, key: str, option: str) -> None:
        if key in "sdiop":
            if key in self.seen:
                raise _param(f"multiple -{key} flags not allowed")
            self.seen.add(key)
            self.spec_options.append(f"-{key}")
            value, inverted, self.invert = self._take(option), self.invert, False
            rule = self.rule
            if key == "s":
                self.srcs, rule.src_inv = _networks(value), inverted
            elif key == "d":
                self.dsts, rule.dst_inv = _networks(value), inverted
            elif key == "i":
                rule.in_iface, rule.in_inv = _interface(value), inverted
            elif key == "o":
                rule.out_iface, rule.out_inv = _interface(value), inverted
            else:
                rule.proto, rule.proto_inv = _protocol(value), inverted
            return
        if key == "m":
            if self.invert:
                raise _param("unexpected ! flag before --match")
            name = self._take(option)
            factory = _MATCHES.get(name)
            if factory is None:
                raise _param(f"Couldn't load match `{name}':No such file or directory")
            self.matches.append(factory())
            self.spec_options.append("-m")
            return
        self._no_invert(option)
        if key in "jg":
            if self.target is not None:
                raise _param("multiple -j flags not allowed")
            self.target = self._take(option)
            self.rule.goto = key == "g"
            self.spec_options.append(f"-{key}")
        elif key == "t":
            value = self._take(option)
            if self.in_restore:
                raise _param("The -t option cannot be used in iptables-restore.")
            if "t" in self.seen:
                raise _param("multiple -t flags not allowed")
            if value not in TABLES:
                raise _no_table(value)
            self.seen.add("t")
            self.cmd.table = value
        elif key == "c":
            packets, size = self._take(option), self._take(option)
            if not (_DIGITS.fullmatch(packets) and _DIGITS.fullmatch(size)):
                raise _param("-c packet counter not numeric")
            self.counters = (int(packets), int(size))
        else:  # -W, --modprobe: accepted and ignored
            self._take(option)

    def _extension(self, option: str) -> None:
        """Target options first, then the loaded modules, then -p's implicit module."""
        known = _TARGET_OPTIONS.get(self.target or "", {})
        if option in known:
            self._no_invert(option)
            if option in self.target_opts:
                raise _param(f"{self.target}: option \"{option}\" can only be used once.")
            self.target_opts[option] = self._take(option) if known[option] else None
            return
        for match in self.matches:
            if option in match.options():
                self._feed(match, option)
                return
        name = _PROTO_NAMES.get(self.rule.proto)
        if (name in ("tcp", "udp", "icmp") and not self.proto_loaded
                and not any(m.name == name for m in self.matches)):
            self.proto_loaded = True
            match = _MATCHES[name]()
            self.matches.append(match)
            if option in match.options():
                self._feed(match, option)
                return
        raise _param(f"unknown option \"{option}\"")

    def _feed(self, match: Match, option: str) -> None:
        canonical, count, invertible = match.options()[option]
        if self.invert and not invertible:
            raise _param(f"{match.name}: option \"--{canonical}\" cannot be inverted.")
        seen = self.match_seen.setdefault(id(match), set())
        if canonical in seen:
            raise _param(f"{match.name}: option \"--{canonical}\" can only be used once.")
        seen.add(canonical)
        args = [self._take(option) for _ in range(count)]
        match.parse(canonical, args, self.invert)
        self.invert = False

    def _finish(self) -> _Command:
        cmd = self.cmd
        if not cmd.op:
            raise _param("no command specified")
        wants_rule = cmd.op in ("A", "C", "I", "R") or (cmd.op == "D" and cmd.rulenum is None)
        if not wants_rule:
            if self.spec_options:
                raise _param(f"Illegal option `{self.spec_options[0]}' with this command")
            if cmd.op == "P" and cmd.table == "nat" and cmd.extra == "DROP":
                raise _nat_drop()
            return cmd
        base = self.rule
        if base.in_iface and cmd.chain in ("OUTPUT", "POSTROUTING"):
            raise _param(f"Can't use -i with {cmd.chain}")
        if base.out_iface and cmd.chain in ("PREROUTING", "INPUT"):
            raise _param(f"Can't use -o with {cmd.chain}")
        for match in self.matches:
            match.finish(base)
        if self.target is not None:
            if self.target == "DROP" and cmd.table == "nat":
                raise _nat_drop()
            base.target = _build_target(self.target, self.target_opts, base)
        srcs, dsts = self.srcs or [None], self.dsts or [None]
        if cmd.op == "R" and len(srcs) * len(dsts) > 1:
            raise _param("Replacement rule does not specify a unique address")
        if len(srcs) == 1 and len(dsts) == 1:   # one rule: it can keep the parsed matches
            base.src, base.dst, base.matches = srcs[0], dsts[0], list(self.matches)
            if self.counters:
                base.packets, base.bytes = self.counters
            cmd.rules.append(base)
            return cmd
        for src in srcs:
            for dst in dsts:
                rule = replace(base, src=src, dst=dst,
                               matches=[match.clone() for match in self.matches])
                if self.counters:
                    rule.packets, rule.bytes = self.counters
                cmd.rules.append(rule)
        return cmd


def _parse_command(argv: list[str]) -> _Command:
    if argv and argv[0] == "iptables":
        argv = argv[1:]
    return _ArgvParser(argv, in_restore=False).run()


@functools.lru_cache(maxsize=4096)
def _parsed_command(text: str) -> _Command:
    """A command line parsed once: every node runs the same agents' commands. Only copies
    made by _fresh_rules ever reach a table."""
    try:
        argv = shell_words(text)
    except ValueError as error:
        raise IptablesError(f"iptables: {error}") from None
    cmd = _parse_command(argv)
    for rule in cmd.rules:
        rule.spec()   # rendered once, kept by every copy
    return cmd


def _fresh_rules(cmd: _Command) -> _Command:
    """The command with rules of its own: a table counts packets on its rules."""
    rules = []
    for rule in cmd.rules:
        copy_ = rule.clone()
        copy_._spec = rule._spec
        rules.append(copy_)
    return replace(cmd, rules=rules)


def _nat_drop() -> IptablesError:
    return _param("The \"nat\" table is not intended for filtering, the use of DROP is "
                  "therefore inhibited.")


_SHELL_WORD = re.compile(r'(?:[^ \t\r\n"]+|"[^"]*")+')


def shell_words(text: str) -> list[str]:
    """shlex.split, without its character-at-a-time loop for a line with neither single
    quotes nor backslashes (then a double quote only opens or closes a quoted part)."""
    if "'" in text or "\\" in text or text.count('"') % 2:
        return shlex.split(text)
    return [word.replace('"', "") for word in _SHELL_WORD.findall(text)]


_PLAIN_LINE = re.compile(r'[ \t\n]*(?:(?:"[^"\\]*"|[^ \t\n"\\]+)(?:[ \t\n]+|$))*')
_PLAIN_ARG = re.compile(r'"([^"\\]*)"|([^ \t\n"\\]+)')


def _restore_args(line: str) -> list[str]:
    """Split a rule line as iptables-restore does: double quotes, backslash inside them."""
    if _PLAIN_LINE.fullmatch(line):   # whole words and whole quoted words: a regex will do
        return [quoted or word for quoted, word in _PLAIN_ARG.findall(line)]
    args: list[str] = []
    buffer: list[str] = []
    quoted = escaped = False
    for char in line:
        if quoted:
            if escaped:
                buffer.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
                args.append("".join(buffer))
                buffer = []
            else:
                buffer.append(char)
        elif char == '"':
            quoted = True
        elif char in " \t\n":
            if buffer:
                args.append("".join(buffer))
                buffer = []
        else:
            buffer.append(char)
    if quoted:
        raise _param("unterminated quoted string")
    if buffer:
        args.append("".join(buffer))
    return args


# ---------------------------------------------------------------------------- netfilter


class _Tables(dict):
    """A namespace's tables, each made on first use: most pods never get a rule, and an
    unused table is all empty built-in chains with an ACCEPT policy."""

    def __missing__(self, name: str) -> Table:
        if name not in TABLES:
            raise KeyError(name)
        table = self[name] = Table.fresh(name)
        return table

    def values(self):
        return [self[name] for name in TABLES]

    def items(self):
        return [(name, self[name]) for name in TABLES]


class Netfilter:
    """The four IPv4 tables of one network namespace."""

    __slots__ = ("tables", "generation", "recent", "counts", "_saved")

    def __init__(self) -> None:
        self.tables: dict[str, Table] = _Tables()
        self.generation = 0   # bumped on every change, for callers that cache
        self.recent: dict[str, dict] = {}  # xt_recent's lists, per namespace as in the kernel
        self.counts: dict[int, list] = {}  # this table's counters of shared rules: [rule, p, b]
        self._saved: tuple | None = None   # the last iptables-save text, and what it showed

    def share(self, table: str, shared) -> None:
        """Show a layer of shared chains (SharedChains) in one table."""
        self.table(table).chains.shared = shared
        self.generation += 1

    def rule_counters(self, chain: Chain, rule: Rule) -> tuple[int, int]:
        """A rule's packets and bytes as this namespace counted them."""
        if not chain.shared:
            return rule.packets, rule.bytes
        entry = self.counts.get(id(rule))
        return (entry[1], entry[2]) if entry is not None and entry[0] is rule else (0, 0)

    def _count(self, chain: Chain, rule: Rule, size: int) -> None:
        if not chain.shared:
            rule.packets += 1
            rule.bytes += size
            return
        entry = self.counts.get(id(rule))
        if entry is None or entry[0] is not rule:
            entry = self.counts[id(rule)] = [rule, 0, 0]
        entry[1] += 1
        entry[2] += size

    def _writable(self, table: Table, name: str) -> Chain:
        """The chain to change in this table: a shared one is copied here first, with the
        counters this namespace has for it."""
        chain = table.chains[name]
        if chain.shared:
            copy = table.chains.writable(name)
            for old, new in zip(chain.rules, copy.rules, strict=True):
                new.packets, new.bytes = self.rule_counters(chain, old)
            chain = copy
        chain.changed()
        return chain

    def table(self, name: str) -> Table:
        if name not in TABLES:
            raise _no_table(name)
        return self.tables[name]

    def has_rules(self, table: str, chain: str) -> bool:
        """Whether a built-in chain holds any rule (without making an unused table)."""
        made = self.tables.get(table)
        return made is not None and bool(made.chains.own[chain].rules)

    def chain(self, table: str, name: str) -> Chain:
        chain = self.table(table).chains.get(name)
        if chain is None:
            raise _kernel(_ENOENT)
        return chain

    def copy(self) -> Netfilter:
        other = Netfilter()
        other.tables = _Tables({name: table.clone() for name, table in self.tables.items()})
        other.generation = self.generation
        other.counts = {key: list(entry) for key, entry in self.counts.items()}
        return other

    def rule_count(self, table: str | None = None) -> int:
        tables = [self.table(table)] if table is not None else self.tables.values()
        return sum(len(c.rules) for t in tables for c in t.chains.values())

    def zero_counters(self) -> None:
        for table in self.tables.values():
            _zero(table.chains.own.values())
        self.counts.clear()

    # --------------------------------------------------------------- iptables

    def iptables(self, argv: list[str] | str, check_table: bool = True) -> None:
        """Run one iptables command (the arguments after the word `iptables`). An agent's
        own fixed rules skip the whole-table loop check (`check_table`): on a node of a
        10,000-Service lab it walks every chain, and theirs cannot make a loop."""
        cmd = _fresh_rules(_parsed_command(argv)) if isinstance(argv, str) \
            else _parse_command(argv)
        self._execute(cmd, validate=check_table)
        self.generation += 1

    def _execute(self, cmd: _Command, validate: bool) -> None:
        """Apply one parsed command; on error the table is left as it was."""
        table = self.tables[cmd.table]
        op = cmd.op
        if op in ("L", "S"):
            raise _param(f"-{op} is not modeled; use save()")
        if op == "N":
            _check_chain_name(cmd.chain)
            if cmd.chain in table.chains:
                raise _kernel("Chain already exists")
            table.chains[cmd.chain] = Chain(cmd.chain)
        elif op == "X":
            self._delete_chains(table, cmd.chain)
        elif op == "F":
            for chain in self._chains(table, cmd.chain):
                if chain.rules:
                    self._writable(table, chain.name).rules.clear()
        elif op == "Z":
            chains = self._chains(table, cmd.chain)
            if cmd.rulenum is not None:
                rules = chains[0].rules
                if cmd.rulenum > len(rules):
                    raise _kernel("Index of counter too big")
                rules = self._writable(table, chains[0].name).rules
                rules[cmd.rulenum - 1].packets = rules[cmd.rulenum - 1].bytes = 0
            else:
                _zero(c for c in chains if not c.shared)
                for chain in chains:
                    if chain.shared and chain.parsed:   # unparsed: nothing counted yet
                        for rule in chain.rules:
                            self.counts.pop(id(rule), None)
        elif op == "P":
            chain = self.chain(cmd.table, cmd.chain)
            if not chain.builtin:
                raise _kernel("Bad built-in chain name")
            if cmd.extra not in POLICIES:
                raise _kernel("Bad policy name. Run `dmesg' for more information")
            chain.policy = cmd.extra
        elif op == "E":
            self._rename(table, cmd.chain, cmd.extra)
        else:
            self._rule_command(table, cmd, validate)

    def _rule_command(self, table: Table, cmd: _Command, validate: bool) -> None:
        for rule in cmd.rules:
            _resolve_target(table, rule)
        chain = self.chain(table.name, cmd.chain)
        rules, op, number = chain.rules, cmd.op, cmd.rulenum
        if op != "C":
            rules = self._writable(table, cmd.chain).rules
        if op == "C":
            if any(_find(rules, rule) is None for rule in cmd.rules):
                raise _kernel("Bad rule (does a matching rule exist in that chain?)")
            return
        if op == "D":
            if number is not None:
                if number > len(rules):
                    raise _kernel("Index of deletion too big")
                del rules[number - 1]
                return
            kept = list(rules)
            for rule in cmd.rules:
                index = _find(kept, rule)
                if index is None:
                    raise _kernel("Bad rule (does a matching rule exist in that chain?)")
                del kept[index]
            rules[:] = kept
            return
        before = list(rules)
        if op == "A":
            rules.extend(cmd.rules)
        elif op == "I":
            number = number or 1
            if number > len(rules) + 1:
                raise _kernel("Index of insertion too big")
            for rule in cmd.rules:   # each at the same position, as iptables does
                rules.insert(number - 1, rule)
        else:
            if number > len(rules):
                raise _kernel("Index of replacement too big")
            rules[number - 1] = cmd.rules[0]
        if validate and any(_needs_validation(rule) for rule in cmd.rules):
            try:
                _validate(table)
            except IptablesError:
                rules[:] = before
                raise

    @staticmethod
    def _chains(table: Table, name: str | None) -> list[Chain]:
        if name is None:
            return list(table.chains.values())
        if name not in table.chains:
            raise _kernel(_ENOENT)
        return [table.chains[name]]

    @staticmethod
    def _delete_chains(table: Table, name: str | None) -> None:
        if name is None:
            names = sorted(name for name, c in table.chains.items() if not c.builtin)
        elif name not in table.chains:
            raise _kernel(_ENOENT)
        elif table.chains[name].builtin:
            raise _kernel(_EINVAL)
        else:
            names = [name]
        references = table.references()
        for chain_name in names:
            if references.get(chain_name):
                raise _kernel("Too many links")
            if table.chains[chain_name].rules:
                raise _kernel("Directory not empty")
        for chain_name in names:
            del table.chains[chain_name]

    def _rename(self, table: Table, old: str, new: str) -> None:
        if old not in table.chains:
            raise _kernel(_ENOENT)
        if table.chains[old].builtin:
            raise _kernel(_EINVAL)
        _check_chain_name(new)
        if new in table.chains:
            raise _kernel("File exists")
        chains = table.chains
        renamed = chains[old].clone() if chains[old].shared else chains[old]
        renamed.name, renamed.shared = new, False
        renamed.changed()
        own = {(new if name == old else name): chain for name, chain in chains.own.items()}
        own.setdefault(new, renamed)
        del chains[old]
        chains.own = own
        chains.version += 1
        for name in [n for n, c in chains.items() if old in c.target_names()]:
            for rule in self._writable(table, name).rules:
                if rule.target is not None and rule.target.name == old:
                    rule.target = replace(rule.target, name=new)
                    rule._spec = None

    # --------------------------------------------------------------- restore / save

    def restore(self, text: str, noflush: bool = False, counters: bool = False) -> None:
        """Load iptables-restore text, all or nothing.

        Without `noflush` each table named is emptied first (rules flushed, user chains
        deleted). A `:CHAIN - [0:0]` line creates a user chain, or with `noflush` flushes
        an existing one, as kube-proxy relies on. `counters` (iptables-restore -c) takes
        `[p:b]` counters from the text.
        """
        work = self.copy()
        current: Table | None = None
        lines = text.splitlines()
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if current is None:
                    if not line.startswith("*"):
                        raise _param("no table specified")
                    current = work.table(line[1:].strip())
                    if not noflush:
                        for name, chain in list(current.chains.items()):
                            if not chain.builtin:
                                del current.chains[name]
                            elif chain.rules:
                                chain.rules.clear()
                                chain.changed()
                elif line == "COMMIT":
                    _validate(current)
                    current = None
                elif line.startswith(":"):
                    _restore_chain(work, current, line, number, noflush, counters)
                else:
                    found = _COUNTERS.match(line)
                    if found:
                        line = line[found.end():]
                    cmd = _ArgvParser(_restore_args(line), in_restore=True).run()
                    cmd.table = current.name
                    if found and counters:
                        for rule in cmd.rules:
                            rule.packets, rule.bytes = int(found[1]), int(found[2])
                    work._execute(cmd, validate=False)
            except IptablesError as error:
                raise IptablesError(f"iptables-restore: line {number} failed") from error
        if current is not None:
            raise IptablesError(f"iptables-restore: COMMIT expected at line {len(lines) + 1}")
        self.tables = _Tables(work.tables)
        self.counts = work.counts
        self.generation += 1

    def save(self, tables: Iterable[str] | None = None, counters: bool = False,
             when: str = SAVE_DATE) -> str:
        """iptables-save output; `counters` is -c (each rule prefixed with [p:b])."""
        if tables is None:
            names = [n for n in SAVE_ORDER if n in ("filter", "nat") or self._in_use(n)]
        else:
            names = list(tables)
        stamp = (tuple(names), when, self.generation,   # policy counters print without -c
                 tuple((self.table(n).chains.stamp, tuple((c.packets, c.bytes) for c in
                        self.table(n).chains.own.values() if c.builtin)) for n in names))
        if not counters and self._saved is not None and self._saved[0] == stamp:
            return self._saved[1]
        out: list[str] = []   # pieces that each end with a newline
        for name in names:
            table = self.table(name)
            chains = table.ordered()
            out.append(f"# Generated by iptables-save v{VERSION} on {when}\n*{name}\n")
            for chain in chains:
                if chain.builtin:
                    out.append(f":{chain.name} {chain.policy} "
                               f"[{chain.packets}:{chain.bytes}]\n")
                else:
                    out.append(chain.header())
            for chain in chains:
                if counters and not chain.parsed:   # never walked, so every counter is 0
                    out += ["[0:0] " + line for line in chain.save_text().splitlines(True)]
                elif counters:
                    for rule in chain.rules:
                        packets, size = self.rule_counters(chain, rule)
                        out.append(f"[{packets}:{size}] " + rule.text(chain.name) + "\n")
                elif not chain.parsed or chain.rules:
                    out.append(chain.save_text())
            out.append(f"COMMIT\n# Completed on {when}\n")
        text = "".join(out)
        if not counters:
            self._saved = (stamp, text)
        return text

    def _in_use(self, name: str) -> bool:
        return any(c.rules or not c.builtin or c.policy != "ACCEPT"
                   for c in self.tables[name].chains.values())

    # --------------------------------------------------------------- evaluation

    def run_chain(self, table: str, chain: str, pkt: Packet, meta: PacketMeta) -> Verdict:
        """Traverse a built-in chain the way ipt_do_table does, bumping counters."""
        start = self.chain(table, chain)
        if not start.builtin:
            raise IptablesError(f"run_chain needs a built-in chain, not `{chain}'")
        chains = self.tables[table].chains
        matched: list[tuple[str, int, str]] = []
        walked = 0
        stack: list[tuple[Chain, int]] = []   # where a RETURN resumes
        current, index = start, 0
        dst = int(pkt.dst)
        while True:
            size = len(current.rules)
            if index < size:
                lookup = current.index()
                if lookup is not None:   # skip rules whose -d cannot match, counting them
                    candidate = lookup.next_candidate(dst, index)
                    target_index = size if candidate is None else candidate
                    walked += target_index - index
                    index = target_index
            if index >= size:
                if current.builtin or not stack:
                    break
                current, index = stack.pop()
                continue
            rule = current.rules[index]
            walked += 1
            index += 1
            if not rule.match_packet(pkt, meta):
                continue
            self._count(current, rule, pkt.length)
            matched.append((current.name, index, rule.text(current.name)))
            target = rule.target
            if target is None:
                continue
            name = target.name
            if name == "RETURN":
                if current.builtin or not stack:
                    break
                current, index = stack.pop()
            elif name == "MARK":
                meta.mark = ((meta.mark & ~target.mask) ^ target.mark) & _MASK32
            elif name == "NOTRACK" or target.notrack:
                if meta.ct_state is None:   # a packet conntrack already has keeps its entry
                    meta.ct_state = "UNTRACKED"
            elif name == "CT":
                pass   # a conntrack template with nothing set: no effect here
            elif name in _TERMINAL:
                return Verdict(name, table, current.name, rule, index,
                               to_address=target.to_address,
                               to_port=target.ports[0] if target.ports else None,
                               reject_with=target.reject_with,
                               random_fully=target.random_fully,
                               matched=matched, rules_walked=walked)
            else:
                if not rule.goto:
                    stack.append((current, index))
                    if len(stack) > MAX_JUMP_DEPTH:
                        raise _kernel(_ELOOP)
                current, index = chains[name], 0
        start.packets += 1
        start.bytes += pkt.length
        return Verdict(start.policy, table, start.name, None, None,
                       matched=matched, rules_walked=walked)


def parse_rule(table: str, chain: str, spec: str) -> Rule:
    """One rule from its iptables-save text (without `-A CHAIN`), as iptables-restore
    reads it; the caller vouches that its target exists."""
    cmd = _ArgvParser(_restore_args(f"-A {chain} {spec}"), in_restore=True).run()
    if len(cmd.rules) != 1:
        raise _param(f"`{spec}' is not one rule")
    return cmd.rules[0]


def _zero(chains: Iterable[Chain]) -> None:
    for chain in chains:
        chain.packets = chain.bytes = 0
        for rule in chain.rules:
            rule.packets = rule.bytes = 0


def _find(rules: list[Rule], wanted: Rule) -> int | None:
    """The first rule identical to `wanted` (iptables compares whole rules, not counters)."""
    spec = wanted.spec()
    return next((i for i, rule in enumerate(rules) if rule.spec() == spec), None)


def _check_chain_name(name: str) -> None:
    if not name:
        raise _param("empty chain name not allowed")
    if len(name) > 28:
        raise _param(f"chain name `{name}' too long (must be under 29 chars)")
    if name[0] in "-!":
        raise _param(f"chain name not allowed to start with `{name[0]}'")
    if name in _TARGETS:
        raise _param("chain name may not clash with target name")


def _resolve_target(table: Table, rule: Rule) -> None:
    """-j must name a target or a user chain of this table; some targets fit one table."""
    target = rule.target
    if target is None:
        return
    if target.is_chain:
        chain = table.chains.get(target.name)
        if chain is None or chain.builtin:
            raise _param(f"Couldn't load target `{target.name}':No such file or directory")
    elif target.name in _TARGET_PLACES and _TARGET_PLACES[target.name][0] != table.name:
        raise _kernel(_EINVAL)


def _needs_validation(rule: Rule) -> bool:
    return rule.target is not None and (rule.target.is_chain
                                        or rule.target.name in _TARGET_PLACES)


def _validate(table: Table) -> None:
    """What the kernel checks on loading a table: no jump loop reachable from a hook, and
    each hook-limited target only reachable from the hooks it supports."""
    targets = {name: chain.target_names() for name, chain in table.chains.items()}
    edges = {name: [target for target in names if target is not None and target not in _TARGETS]
             for name, names in targets.items()}
    hooks: dict[str, set[str]] = {}
    for hook in BUILTIN_CHAINS[table.name]:
        state = {hook: 1}   # 1: on the current path, 2: done
        stack = [(hook, iter(edges[hook]))]
        hooks.setdefault(hook, set()).add(hook)
        while stack:
            name, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                state[name] = 2
                stack.pop()
            elif state.get(following) == 1:
                raise _kernel(_ELOOP)
            elif following not in state and following in edges:
                state[following] = 1
                hooks.setdefault(following, set()).add(hook)
                stack.append((following, iter(edges[following])))
    for name, names in targets.items():
        for target in names:
            place = _TARGET_PLACES.get(target) if target else None
            if place and not hooks.get(name, set()) <= place[1]:
                raise _kernel(_EINVAL)


def _restore_chain(nf: Netfilter, table: Table, line: str, number: int, noflush: bool,
                   counters: bool) -> None:
    """`:NAME POLICY [p:b]`: set a built-in's policy, or create (or flush) a user chain."""
    parts = line[1:].split()
    if len(parts) < 2:
        raise _param(f"bad chain line {number}")
    name, policy = parts[0], parts[1]
    chain = table.chains.get(name)
    if chain is not None and chain.builtin:
        if policy == "-":
            return
        if policy not in POLICIES:
            raise _param(f"Can't set policy `{policy}' on `{name}' line {number}: "
                         "Bad policy name")
        packets = size = 0
        if counters:
            found = _COUNTERS.fullmatch(parts[2]) if len(parts) > 2 else None
            if found is None:
                raise _param(f"invalid policy counters for chain '{name}'")
            packets, size = int(found[1]), int(found[2])
        chain.policy, chain.packets, chain.bytes = policy, packets, size
        return
    if policy != "-":
        raise _param(f"Can't set policy `{policy}' on `{name}' line {number}: "
                     "Bad built-in chain name")
    if chain is not None:
        if not noflush:
            raise _param(f"error creating chain '{name}':File exists")
        if chain.rules:
            nf._writable(table, name).rules.clear()
        return
    _check_chain_name(name)
    table.chains[name] = Chain(name)
