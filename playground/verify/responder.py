"""A tiny server run inside one network namespace: it answers every probe (a line on a TCP
connection, a UDP datagram) with its own name and the peer address it saw.

    python playground/verify/responder.py NAME [--dns JSON] tcp:0.0.0.0:80 udp:0.0.0.0:53 ...

`arp:IP:DEV` answers ARP who-has IP on DEV with DEV's MAC, from userspace, as a MetalLB
speaker announces an address in layer 2 (the address is on no interface).

With --dns (a coredns pod's namespace) a datagram to port 53 that is a DNS query, or a query
behind its two-byte length on a TCP connection to port 53, is answered as a DNS server: the
model's records for the name (JSON: name -> "STATUS ADDRESS..."), and, for verify to read, a
TXT record `verify.` with its name and the peer.
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
ETH_P_ARP = 0x0806
ARP_HEADER = struct.Struct("!6s6sHHHBBH6s4s6s4s")   # Ethernet header, then an IPv4 ARP


class ArpSocket(socket.socket):
    """A packet socket on one device, with the address it answers for."""

    announced = b""


def arp_reply(frame: bytes, mac: bytes, address: bytes) -> bytes | None:
    """The is-at for a who-has of `address`, or None for any other frame."""
    if len(frame) < ARP_HEADER.size:
        return None
    (_dst, _src, ethertype, hardware, protocol, hlen, plen, op, sender_mac, sender_ip,
     _target_mac, target_ip) = ARP_HEADER.unpack_from(frame)
    if (ethertype, hardware, protocol, hlen, plen, op) != (ETH_P_ARP, 1, 0x0800, 6, 4, 1) \
            or target_ip != address:
        return None
    return ARP_HEADER.pack(sender_mac, mac, ETH_P_ARP, 1, 0x0800, 6, 4, 2, mac, address,
                           sender_mac, sender_ip)


def answer(name: str, peer: tuple[str, int]) -> bytes:
    return f"{name} {peer[0]}:{peer[1]}\n".encode()


def open_sockets(specs: list[str]) -> list[socket.socket]:
    sockets = []
    for spec in specs:
        proto, address, port = spec.split(":")
        if proto == "arp":   # port is the device here
            sock = ArpSocket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
            sock.bind((port, ETH_P_ARP))
            sock.setblocking(False)
            sock.announced = socket.inet_aton(address)   # what it answers for
            sockets.append(sock)
            continue
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


PROBE = b"probe\n"   # the plain probe's line (client.py), before it waits for the answer


def read_line(conn: socket.socket) -> bytes:
    """The probe's line, read to its end."""
    data = b""
    while not data.endswith(b"\n") and len(data) < 64:
        chunk = conn.recv(64 - len(data))
        if not chunk:
            break
        data += chunk
    return data


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


def dns_over_tcp(name: str, peer: tuple[str, int], conn: socket.socket,
                 records: dict) -> bytes:
    """Read one length-framed query from the connection; its answer, framed the same way."""
    head = conn.recv(2, socket.MSG_WAITALL)
    data = conn.recv(int.from_bytes(head, "big"), socket.MSG_WAITALL) if len(head) == 2 \
        else b""
    reply = dns_answer(name, peer, data, records) or b""
    return len(reply).to_bytes(2, "big") + reply


def serve(name: str, sockets: list[socket.socket], records: dict | None = None) -> None:
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if sock.family == socket.AF_PACKET:
                try:
                    frame = sock.recv(2048)
                except BlockingIOError:
                    continue
                reply = arp_reply(frame, sock.getsockname()[4], sock.announced)
                if reply is not None:
                    sock.send(reply)
                continue
            if sock.type == socket.SOCK_STREAM:
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    continue
                with conn:
                    conn.setblocking(True)
                    conn.settimeout(1.0)
                    try:
                        first = conn.recv(2, socket.MSG_PEEK | socket.MSG_WAITALL)
                        if records is not None and sock.getsockname()[1] == 53 and \
                                first != PROBE[:2]:
                            conn.sendall(dns_over_tcp(name, peer, conn, records))
                        else:
                            read_line(conn)   # a close with unread bytes would be a reset
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
