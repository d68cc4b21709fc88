"""`nfacct add NAME` for the kernel check, where the nfacct tool is not installed: one
NFNL_MSG_ACCT_NEW message on a netfilter netlink socket (nfnetlink_acct), run inside the
namespace as `python3 -m playground.verify.nfacct NAME...`."""

from __future__ import annotations

import errno
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ACCT, NFNL_MSG_ACCT_NEW = 7, 0
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 0x1, 0x4, 0x400
NLMSG_ERROR = 2
NFACCT_NAME = 1


def _message(name: str, seq: int) -> bytes:
    value = name.encode() + b"\0"
    attr = struct.pack("=HH", 4 + len(value), NFACCT_NAME) + value
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, 0) + attr   # nfgenmsg, res_id big-endian 0
    kind = NFNL_SUBSYS_ACCT << 8 | NFNL_MSG_ACCT_NEW
    return struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
                       seq, 0) + body


def add(names: list[str]) -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as sock:
        for seq, name in enumerate(names, start=1):
            sock.send(_message(name, seq))
            reply = sock.recv(4096)
            kind = struct.unpack_from("=H", reply, 4)[0]
            code = -struct.unpack_from("=i", reply, 16)[0] if kind == NLMSG_ERROR else 0
            if code not in (0, errno.EBUSY, errno.EEXIST):
                raise OSError(code, f"nfacct add {name}: {errno.errorcode.get(code, code)}")


if __name__ == "__main__":
    add(sys.argv[1:])
