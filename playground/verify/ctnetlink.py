"""Conntrack tables read (and emptied) over ctnetlink, as `conntrack -L` and `conntrack -F`
ask for them, from a thread that enters each namespace in turn: no process per table.

The messages are the ones conntrack-tools sends: IPCTNL_MSG_CT_GET with NLM_F_DUMP for the
IPv4 family, and IPCTNL_MSG_CT_DELETE without a tuple (a flush); the dump comes back in the
kernel's hash order, the order `conntrack -L` prints. A dump walks the whole hash table,
which every namespace shares (262144 buckets: 10 ms), so a table whose namespace counts no
entry is not dumped.
"""

from __future__ import annotations

import os
import socket
import struct
from ipaddress import IPv4Address

from playground.net.conntrack import Tuple
from playground.verify.inside import Inside, enter

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, IPCTNL_MSG_CT_DELETE = 1, 1, 2
IPCTNL_MSG_CT_GET_STATS, CTA_STATS_GLOBAL_ENTRIES = 5, 1
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY = 1, 2
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
PROTOCOLS = {socket.IPPROTO_TCP: "tcp", socket.IPPROTO_UDP: "udp"}
RECEIVE = 1 << 17  # larger than any dump message the kernel builds (so none is truncated)

Entry = tuple[Tuple, Tuple]


class CtnetlinkError(OSError):
    """The kernel refused a dump or a flush: the namespace and the errno's text."""


def tables(namespaces: list[str], flush: bool = False) -> dict[str, list[Entry]]:
    """Every TCP and UDP entry (original, reply) of each named namespace's table, by name;
    with `flush`, each table is emptied right after it is read."""

    def visit() -> dict[str, list[Entry]]:
        found = {}
        for name in namespaces:
            enter(name)
            with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
                if _count(s, name) == 0:   # nothing to list or empty: skip the hash walk
                    found[name] = []
                    continue
                found[name] = _dump(s, name)
                if flush:
                    _flush(s, name)
        return found

    return Inside(visit).result()


def flush(namespaces: list[str]) -> None:
    tables(namespaces, flush=True)


def _count(sock: socket.socket, name: str) -> int:
    """The namespace's entries, as `conntrack -C` asks (IPCTNL_MSG_CT_GET_STATS): the count
    of its netns, which takes an entry from its allocation to its free, so 0 means none."""
    sock.send(_request(IPCTNL_MSG_CT_GET_STATS, 0, 3))
    for _kind, payload in _messages(sock, 3, f"conntrack -C in {name}"):
        entries = _attributes(payload, 4).get(CTA_STATS_GLOBAL_ENTRIES)
        if entries is not None:
            return struct.unpack("!I", entries)[0]
    raise CtnetlinkError(0, f"conntrack -C in {name}: no count in the answer")


def _request(kind: int, flags: int, seq: int) -> bytes:
    body = struct.pack("=BBH", socket.AF_INET, 0, 0)   # nfgenmsg: IPv4, version 0, res_id 0
    return struct.pack("=IHHII", 16 + len(body), NFNL_SUBSYS_CTNETLINK << 8 | kind,
                       NLM_F_REQUEST | flags, seq, 0) + body


def _messages(sock: socket.socket, seq: int, what: str):
    """(type, payload) of each answer to request `seq`, up to the dump's end or the ack."""
    while True:
        data = sock.recv(RECEIVE)
        at = 0
        while at + 16 <= len(data):
            length, kind, _flags, answer_seq, _pid = struct.unpack_from("=IHHII", data, at)
            payload = data[at + 16:at + length]
            at += (length + 3) & ~3
            if answer_seq != seq:
                continue
            if kind == NLMSG_DONE:
                return
            if kind == NLMSG_ERROR:
                code = -struct.unpack_from("=i", payload)[0]
                if code:
                    raise CtnetlinkError(code, f"{what}: {os.strerror(code)}")
                return   # the ack
            yield kind, payload


def _dump(sock: socket.socket, name: str) -> list[Entry]:
    sock.send(_request(IPCTNL_MSG_CT_GET, NLM_F_DUMP, 1))
    entries = []
    for _kind, payload in _messages(sock, 1, f"conntrack -L in {name}"):
        attrs = _attributes(payload, 4)   # after the nfgenmsg
        if CTA_TUPLE_ORIG not in attrs or CTA_TUPLE_REPLY not in attrs:
            continue
        original, reply = _tuple(attrs[CTA_TUPLE_ORIG]), _tuple(attrs[CTA_TUPLE_REPLY])
        if original is not None and reply is not None:
            entries.append((original, reply))
    return entries


def _flush(sock: socket.socket, name: str) -> None:
    sock.send(_request(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, 2))
    for _answer in _messages(sock, 2, f"conntrack -F in {name}"):
        pass


def _attributes(data: bytes, at: int = 0) -> dict[int, bytes]:
    found = {}
    while at + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, at)
        if length < 4:
            break
        found[kind & NLA_TYPE_MASK] = data[at + 4:at + length]
        at += (length + 3) & ~3
    return found


def _tuple(data: bytes) -> Tuple | None:
    """A TCP or UDP tuple of IPv4 addresses and ports; None for any other protocol."""
    parts = _attributes(data)
    addresses = _attributes(parts.get(CTA_TUPLE_IP, b""))
    proto = _attributes(parts.get(CTA_TUPLE_PROTO, b""))
    name = PROTOCOLS.get(proto.get(CTA_PROTO_NUM, b"\0")[0])
    ports = proto.get(CTA_PROTO_SRC_PORT), proto.get(CTA_PROTO_DST_PORT)
    if name is None or None in ports or CTA_IP_V4_SRC not in addresses \
            or CTA_IP_V4_DST not in addresses:
        return None
    return Tuple(name, IPv4Address(addresses[CTA_IP_V4_SRC]), struct.unpack("!H", ports[0])[0],
                 IPv4Address(addresses[CTA_IP_V4_DST]), struct.unpack("!H", ports[1])[0])
