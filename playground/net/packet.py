"""An immutable IPv4 packet: the L3/L4 header fields the model reads and rewrites."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address

PROTO_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "sctp": 132}

ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_REDIRECT = 5
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11

# Codes of ICMP "destination unreachable" (RFC 792, RFC 1812).
NET_UNREACHABLE = 0
HOST_UNREACHABLE = 1
PORT_UNREACHABLE = 3
FRAG_NEEDED = 4
ADMIN_PROHIBITED = 13
REDIRECT_HOST = 1  # the code of a redirect for one destination host

# The kinds the kernel never answers with an error of its own, and conntrack relates to a flow.
ICMP_ERROR_TYPES = frozenset({ICMP_DEST_UNREACH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED})


@dataclass(frozen=True, slots=True)
class Packet:
    src: IPv4Address
    dst: IPv4Address
    proto: str
    sport: int = 0
    dport: int = 0
    ttl: int = 64
    flags: str = ""
    icmp_type: int | None = None
    icmp_code: int = 0
    icmp_id: int = 0
    inner: Packet | None = None
    length: int = 60
    df: bool = False  # IP "don't fragment"
    mtu: int = 0  # the next-hop MTU an ICMP "fragmentation needed" reports
    vni: int | None = None  # set on a VXLAN packet: the outer header around `payload`
    payload: Packet | None = None
    gateway: IPv4Address | None = None  # set on an ICMP redirect: the better first hop

    def with_(self, **changes) -> Packet:
        return replace(self, **changes)

    @property
    def flag_set(self) -> frozenset[str]:
        """The TCP flags, e.g. {"SYN", "ACK"} for "SYN,ACK"."""
        return frozenset(self.flags.split(",")) if self.flags else frozenset()

    @property
    def is_icmp_error(self) -> bool:
        return self.proto == "icmp" and self.icmp_type in ICMP_ERROR_TYPES

    def summary(self) -> str:
        """One line as tcpdump would roughly print it."""
        if self.proto == "icmp":
            what = ICMP_NAMES.get((self.icmp_type, self.icmp_code)) or ICMP_NAMES.get(
                (self.icmp_type, None), f"type {self.icmp_type}"
            )
            text = f"ICMP {self.src} > {self.dst} {what}"
            if self.icmp_type in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY):
                text += f" id {self.icmp_id}"
            if (self.icmp_type, self.icmp_code) == (ICMP_DEST_UNREACH, FRAG_NEEDED):
                text += f" (mtu {self.mtu})"
            if self.icmp_type == ICMP_REDIRECT and self.inner is not None:
                text += f" {self.inner.dst} to host {self.gateway}"  # as tcpdump puts it
            if self.inner is not None:
                text += f" [for {self.inner.summary()}]"
            return text + f" ttl {self.ttl}"
        flags = f" [{self.flags}]" if self.flags else ""
        text = (f"{self.proto.upper()} {self.src}:{self.sport} > {self.dst}:{self.dport}{flags}"
                f" ttl {self.ttl}")
        if self.payload is not None:
            text += f" VXLAN vni {self.vni} [{self.payload.summary()}]"
        return text

    def to_dict(self) -> dict:
        data = {
            "src": str(self.src),
            "dst": str(self.dst),
            "proto": self.proto,
            "ttl": self.ttl,
            "length": self.length,
        }
        if self.proto == "icmp":
            data.update(icmp_type=self.icmp_type, icmp_code=self.icmp_code, icmp_id=self.icmp_id)
        else:
            data.update(sport=self.sport, dport=self.dport)
        if self.flags:
            data["flags"] = self.flags
        if self.inner is not None:
            data["inner"] = self.inner.to_dict()
        if self.df:
            data["df"] = True
        if self.mtu:
            data["mtu"] = self.mtu
        if self.gateway is not None:
            data["gateway"] = str(self.gateway)
        if self.payload is not None:
            data["vxlan"] = {"vni": self.vni}
            data["payload"] = self.payload.to_dict()
        return data


ICMP_NAMES = {
    (ICMP_ECHO_REQUEST, None): "echo request",
    (ICMP_ECHO_REPLY, None): "echo reply",
    (ICMP_TIME_EXCEEDED, None): "time exceeded in-transit",
    (ICMP_DEST_UNREACH, NET_UNREACHABLE): "net unreachable",
    (ICMP_DEST_UNREACH, HOST_UNREACHABLE): "host unreachable",
    (ICMP_DEST_UNREACH, PORT_UNREACHABLE): "port unreachable",
    (ICMP_DEST_UNREACH, FRAG_NEEDED): "need to frag",
    (ICMP_DEST_UNREACH, ADMIN_PROHIBITED): "host administratively prohibited",
    (ICMP_REDIRECT, REDIRECT_HOST): "redirect",
}


def tcp_syn(src, dst, sport: int, dport: int) -> Packet:
    return Packet(IPv4Address(src), IPv4Address(dst), "tcp", sport, dport, flags="SYN", length=60)


def udp_datagram(src, dst, sport: int, dport: int) -> Packet:
    return Packet(IPv4Address(src), IPv4Address(dst), "udp", sport, dport, length=40)


def sctp_init(src, dst, sport: int, dport: int) -> Packet:
    """An association's first packet: the common header and an INIT chunk (`flags` names
    the chunk, as it names TCP's flags); 20 + 12 + 20 bytes and its parameters."""
    return Packet(IPv4Address(src), IPv4Address(dst), "sctp", sport, dport, flags="INIT",
                  length=68)


def icmp_echo(src, dst, ident: int) -> Packet:
    return Packet(
        IPv4Address(src), IPv4Address(dst), "icmp", icmp_type=ICMP_ECHO_REQUEST,
        icmp_id=ident, length=84,
    )
