"""A tiny server run inside one network namespace: it answers every TCP connection and
UDP datagram with its own name and the peer address it saw.

    python playground/verify/responder.py NAME [--dns JSON] tcp:0.0.0.0:80 udp:0.0.0.0:53 ...

With --dns (a coredns pod's namespace) a datagram to port 53 that is a DNS query is
answered as a DNS server: the model's records for the name (JSON: name -> "STATUS
ADDRESS..."), and, for verify to read, a TXT record `verify.` with its name and the peer.
It prints `ready` once every socket is bound. Standard library only, but for dnspython
where it serves DNS: it starts fast.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import sys

# Linux's IP_PKTINFO (the socket module lacks the name): lets a UDP answer leave from the
# address the question was sent to, as the model's reply does.
IP_PKTINFO = 8


def answer(name: str, peer: tuple[str, int]) -> bytes:
    return f"{name} {peer[0]}:{peer[1]}\n".encode()


def open_sockets(specs: list[str]) -> list[socket.socket]:
    sockets = []
    for spec in specs:
        proto, address, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if proto == "udp":
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((address, int(port)))
        if proto == "tcp":
            sock.listen(64)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def dns_answer(name: str, peer: tuple[str, int], data: bytes, records: dict) -> bytes | None:
    """The DNS answer to a query, or None if the datagram is not one."""
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rrset
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(query)
    question = query.question[0]
    status, *addresses = records.get(question.name.to_text().lower(), "NXDOMAIN").split()
    response.set_rcode(dns.rcode.from_text(status))
    if addresses:
        response.answer.append(dns.rrset.from_text_list(question.name, 30, "IN", "A",
                                                        addresses))
    response.additional.append(dns.rrset.from_text("verify.", 0, "IN", "TXT",
                                                   f'"{name} {peer[0]}:{peer[1]}"'))
    return response.to_wire()


def serve(name: str, sockets: list[socket.socket], records: dict | None = None) -> None:
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if sock.type == socket.SOCK_STREAM:
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    continue
                with conn:
                    conn.setblocking(True)
                    conn.settimeout(1.0)
                    try:
                        conn.sendall(answer(name, peer))
                    except OSError:
                        pass  # the client gave up; nothing to answer
                continue
            try:
                payload, ancillary, _, peer = sock.recvmsg(2048, socket.CMSG_SPACE(12))
            except BlockingIOError:
                continue
            control = []
            for level, kind, data in ancillary:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    _, _, header_dst = struct.unpack("I4s4s", data[:12])
                    control = [(level, kind, struct.pack("I4s4s", 0, header_dst, bytes(4)))]
            reply = None
            if records is not None and sock.getsockname()[1] == 53:
                reply = dns_answer(name, peer, payload, records)
            try:
                sock.sendmsg([reply or answer(name, peer)], control, 0, peer)
            except OSError:
                pass  # no route back: the client will see a timeout


def main(argv: list[str]) -> int:
    name, specs, records = argv[0], argv[1:], None
    if specs[:1] == ["--dns"]:
        records, specs = json.loads(specs[1]), specs[2:]
    try:
        sockets = open_sockets(specs)
    except OSError as error:
        print(f"{name}: cannot listen: {error}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    try:
        serve(name, sockets, records)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
