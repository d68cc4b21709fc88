"""nfnetlink messages by hand (stdlib only, for the verify scripts): attributes, nested
attributes, and a message with its nfgenmsg header."""

from __future__ import annotations

import socket
import struct

NETLINK_NETFILTER = 12
NLA_F_NESTED = 0x8000
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4


def attr(kind: int, data: bytes) -> bytes:
    size = 4 + len(data)
    return struct.pack("=HH", size, kind) + data + b"\0" * (-size % 4)


def nested(kind: int, *parts: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(parts))


def text(kind: int, value: str) -> bytes:
    return attr(kind, value.encode() + b"\0")


def be32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack(">I", value))


def message(kind: int, flags: int, seq: int, family: int, res_id: int, body: bytes) -> bytes:
    """nlmsghdr + nfgenmsg (version 0, res_id big-endian) + attributes."""
    payload = struct.pack("=BBH", family, 0, socket.htons(res_id)) + body
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0) + payload


def attributes(data: bytes) -> dict[int, bytes]:
    """The top-level attributes of a message body, by type (nested flag cleared)."""
    found, offset = {}, 0
    while offset + 4 <= len(data):
        size, kind = struct.unpack_from("=HH", data, offset)
        if size < 4:
            break
        found[kind & ~NLA_F_NESTED] = data[offset + 4:offset + size]
        offset += (size + 3) & ~3
    return found


def messages(data: bytes):
    """(type, body after nfgenmsg or the error code) of each netlink message in `data`."""
    offset = 0
    while offset + 16 <= len(data):
        size, kind, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, offset)
        if size < 16:
            break
        body = data[offset + 16:offset + size]
        if kind == NLMSG_ERROR:
            yield kind, struct.unpack_from("=i", body)[0]
        else:
            yield kind, body[4:]
        offset += (size + 3) & ~3


def open_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    return sock


def check_acks(sock: socket.socket, expected: int, what: str) -> None:
    """Read `expected` acks; a negative one is the kernel's refusal, raised as OSError."""
    seen = 0
    while seen < expected:
        for kind, body in messages(sock.recv(65536)):
            if kind == NLMSG_ERROR:
                if body:
                    raise OSError(-body, f"{what}: the kernel answers errno {-body}")
                seen += 1
