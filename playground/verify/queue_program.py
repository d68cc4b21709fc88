"""A userspace NFQUEUE program for the kernel lab (stdlib only): it binds a queue over
nfnetlink_queue, copies each queued packet's headers, and answers NF_ACCEPT or NF_DROP
from a table of verdicts the model's own program computed, keyed "SRC DST PROTO DPORT".
    queue_program.py QUEUE VERDICTS.json     (prints "ready" once bound)"""

from __future__ import annotations

import json
import socket
import struct
import sys
from ipaddress import IPv4Address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from nfnl import (  # noqa: E402  (a script: its folder is the import path)
    NLM_F_ACK,
    NLM_F_REQUEST,
    attr,
    attributes,
    check_acks,
    message,
    messages,
    open_socket,
)

SUBSYS_QUEUE = 3
PACKET, VERDICT, CONFIG = (SUBSYS_QUEUE << 8) | 0, (SUBSYS_QUEUE << 8) | 1, (SUBSYS_QUEUE << 8) | 2
CFG_CMD, CFG_PARAMS, CFG_MASK, CFG_FLAGS = 1, 2, 4, 5
CMD_BIND, COPY_PACKET, COPY_RANGE = 1, 2, 128     # headers only, as kube-network-policies
F_FAIL_OPEN, F_GSO = 0x1, 0x4
PACKET_HDR, PAYLOAD, VERDICT_HDR = 1, 10, 2
NF_DROP, NF_ACCEPT = 0, 1
PROTOS = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp"}


def bind(sock: socket.socket, queue: int) -> None:
    flags = F_FAIL_OPEN | F_GSO
    body = (attr(CFG_CMD, struct.pack("=BBH", CMD_BIND, 0, 0))
            + attr(CFG_PARAMS, struct.pack(">IB", COPY_RANGE, COPY_PACKET))
            + attr(CFG_MASK, struct.pack(">I", flags)) + attr(CFG_FLAGS, struct.pack(">I", flags)))
    sock.send(message(CONFIG, NLM_F_REQUEST | NLM_F_ACK, 1, socket.AF_UNSPEC, queue, body))
    check_acks(sock, 1, f"bind queue {queue}")


def flow(payload: bytes) -> str:
    """The key of an IPv4 packet's headers: source, destination, protocol, port."""
    header = (payload[0] & 0x0F) * 4
    proto = PROTOS.get(payload[9], str(payload[9]))
    port = struct.unpack_from(">H", payload, header + 2)[0] \
        if proto in ("tcp", "udp", "sctp") else 0
    return f"{IPv4Address(payload[12:16])} {IPv4Address(payload[16:20])} {proto} {port}"


def serve(sock: socket.socket, queue: int, verdicts: dict[str, str]) -> None:
    while True:
        for kind, body in messages(sock.recv(65536)):
            if kind != PACKET:
                continue
            found = attributes(body)
            packet_id = struct.unpack_from(">I", found[PACKET_HDR])[0]
            key = flow(found[PAYLOAD])
            answer = verdicts.get(key)
            if answer is None:
                print(f"no verdict for {key}: drop", file=sys.stderr, flush=True)
            verdict = NF_ACCEPT if answer == "accept" else NF_DROP
            sock.send(message(VERDICT, NLM_F_REQUEST, 0, socket.AF_UNSPEC, queue,
                              attr(VERDICT_HDR, struct.pack(">II", verdict, packet_id))))


if __name__ == "__main__":
    number = int(sys.argv[1])
    table = json.loads(Path(sys.argv[2]).read_text())
    netlink = open_socket()
    try:
        bind(netlink, number)
    except OSError as error:
        sys.exit(str(error))
    print("ready", flush=True)
    serve(netlink, number, table)
