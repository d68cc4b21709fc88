"""What -j names: verdicts, extension targets (REJECT, MARK, DNAT, SNAT, MASQUERADE,
NOTRACK, CT) and where the kernel accepts each."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from playground.net.netfilter.values import (
    _DIGITS,
    _EINVAL,
    _MASK32,
    _PORT_PROTOCOLS,
    REJECT_TYPES,
    _kernel,
    _param,
    _value_mask,
)

if TYPE_CHECKING:
    from playground.net.netfilter.core import Rule


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
