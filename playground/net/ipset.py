"""IP sets of one namespace (the kernel's ip_set): typed member lists that `-m set` tests.

Only the set types kube-proxy uses are modelled. Members are kept as the `ipset` tool
prints them (`10.96.0.10,tcp:80`), and `ipset list` is printed as ipset 7 prints it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from playground.net.packet import Packet

# type -> (revision, the kernel's memory for an empty set, and per member): measured on a
# 6.x kernel with ipset 7.17; the kernel's real figure also depends on its hash buckets
SET_TYPES = {
    "hash:ip": (6, 216, 40),
    "hash:ip,port": (7, 216, 48),
    "hash:ip,port,ip": (6, 208, 56),
    "hash:ip,port,net": (8, 464, 56),
    "bitmap:port": (3, 8264, 0),
}
# how many packet fields a member of each type compares, in `--match-set NAME FLAGS` order
DIMENSIONS = {"hash:ip": 1, "hash:ip,port": 2, "hash:ip,port,ip": 3, "hash:ip,port,net": 3,
              "bitmap:port": 1}


class IpsetError(ValueError):
    """What `ipset` would refuse, in its words."""


@dataclass
class IpSet:
    name: str
    type: str
    comment: str = ""
    members: set[str] = field(default_factory=set)

    def add(self, member: str) -> None:
        self.members.add(_canonical(self.type, member))

    def contains(self, pkt: Packet, flags: list[str]) -> bool:
        """Does the packet, read by `src`/`dst` flags per dimension, make a member?"""
        if len(flags) < DIMENSIONS[self.type]:
            return False
        values = []
        for index, flag in enumerate(flags[:DIMENSIONS[self.type]]):
            address = pkt.src if flag == "src" else pkt.dst
            port = pkt.sport if flag == "src" else pkt.dport
            kind = self.type.removeprefix("hash:").removeprefix("bitmap:").split(",")[index]
            if kind == "port":
                if pkt.proto not in ("tcp", "udp"):
                    return False
                values.append(f"{pkt.proto}:{port}" if self.type != "bitmap:port" else str(port))
            else:
                values.append(str(address))
        if self.type == "hash:ip,port,net":
            head = ",".join(values[:2])
            return any(m.startswith(head + ",") and IPv4Address(values[2]) in
                       IPv4Network(m.rsplit(",", 1)[1]) for m in self.members)
        return ",".join(values) in self.members

    def listing(self, references: int) -> str:
        revision, base, each = SET_TYPES[self.type]
        if self.type == "bitmap:port":
            header = "range 0-65535"
        else:  # initval is random per set in the kernel; here it comes from the name
            header = (f"family inet hashsize 1024 maxelem 65536 bucketsize 12 "
                      f"initval 0x{zlib.crc32(self.name.encode()):08x}")
        lines = [f"Name: {self.name}", f"Type: {self.type}", f"Revision: {revision}",
                 f"Header: {header}", f"Size in memory: {base + each * len(self.members)}",
                 f"References: {references}", f"Number of entries: {len(self.members)}",
                 "Members:"]
        return "\n".join(lines + sorted(self.members, key=_member_key)) + "\n"


def _canonical(set_type: str, member: str) -> str:
    parts = member.split(",")
    kinds = set_type.split(":")[1].split(",")
    if len(parts) != len(kinds):
        raise IpsetError(f"ipset v7.17: Syntax error: '{member}' is not a {set_type} element")
    out = []
    for kind, part in zip(kinds, parts, strict=True):
        try:
            if kind == "ip":
                out.append(str(IPv4Address(part)))
            elif kind == "net":
                out.append(str(IPv4Network(part)))
            elif set_type == "bitmap:port":
                out.append(str(int(part)))
            else:
                proto, _, port = part.rpartition(":")
                out.append(f"{proto or 'tcp'}:{int(port)}")
        except ValueError:
            raise IpsetError(f"ipset v7.17: Syntax error: '{part}' is not a valid {kind}") \
                from None
    return ",".join(out)


def _member_key(member: str) -> tuple:
    """Sorted by address then port; the kernel lists in hash order, which varies per boot."""
    key = []
    for part in member.split(","):
        if part.count(".") == 3:
            key.append((0, int(IPv4Network(part, strict=False).network_address), part))
        else:
            key.append((1, int(part.rpartition(":")[2]), part))
    return tuple(key)


def set_references(netfilter) -> dict[str, int]:
    """How many rules name each set with `-m set`: ipset's References column."""
    counts: dict[str, int] = {}
    for table in netfilter.tables.values():
        for chain in table.chains.values():
            if not chain.uses_module("set"):   # kube-proxy's unparsed chains stay unparsed
                continue
            for rule in chain.rules:
                for match in rule.matches:
                    name = getattr(match, "set_name", None)
                    if name is not None:
                        counts[name] = counts.get(name, 0) + 1
    return counts


class IpSets:
    """One namespace's sets, by name."""

    def __init__(self) -> None:
        self.sets: dict[str, IpSet] = {}

    def __bool__(self) -> bool:
        return bool(self.sets)

    def create(self, name: str, set_type: str, comment: str = "") -> IpSet:
        if set_type not in SET_TYPES:
            raise IpsetError(f"ipset v7.17: Syntax error: typename '{set_type}' is unknown")
        if name in self.sets:
            raise IpsetError("ipset v7.17: Set cannot be created: set with the same name "
                             "already exists")
        self.sets[name] = IpSet(name, set_type, comment)
        return self.sets[name]

    def get(self, name: str) -> IpSet | None:
        return self.sets.get(name)

    def destroy(self, name: str) -> None:
        self.sets.pop(name, None)

    def listing(self, references: dict[str, int] | None = None,
                name: str | None = None) -> str:
        """`ipset list [NAME]`: one block per set, a blank line between them."""
        if name is not None and name not in self.sets:
            raise IpsetError("ipset v7.17: The set with the given name does not exist")
        chosen = [self.sets[name]] if name else list(self.sets.values())
        refs = references or {}
        return "\n".join(s.listing(refs.get(s.name, 0)) for s in chosen)
