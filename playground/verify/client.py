"""One probe from inside a network namespace: connect (TCP) or send (UDP) from a fixed
source port, read the responder's answer, print the outcome as one JSON line.

    python playground/verify/client.py tcp SPORT DST DPORT TIMEOUT [NAME]

With NAME the UDP datagram (or, over TCP, the message behind its two-byte length) is a DNS
query for NAME's A records, made and read with dnspython, and the outcome says the answer
and the address it came from.
Standard library only otherwise: it starts fast. verify calls probe() from a thread it
has moved into the namespace (no process); the command line is for scripts and tests.
"""

from __future__ import annotations

import errno
import json
import socket
import sys

UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH}


def query(sock: socket.socket, name: str) -> dict:
    """Ask for NAME's A records on the connected socket; the answer as verify compares it."""
    import dns.message
    import dns.rcode
    wire = dns.message.make_query(name, "A", id=4660).to_wire()
    if sock.type == socket.SOCK_STREAM:   # RFC 1035 4.2.2: the length first, both ways
        sock.sendall(len(wire).to_bytes(2, "big") + wire)
        data = _read(sock, int.from_bytes(_read(sock, 2), "big"))
        source = sock.getpeername()
    else:
        sock.send(wire)
        data, source = sock.recvfrom(4096)
    response = dns.message.from_wire(data)
    addresses = sorted(item.address for rrset in response.answer if rrset.rdtype == 1
                       for item in rrset)
    seen = next((rrset[0].strings[0].decode() for rrset in response.additional
                 if rrset.name.to_text() == "verify."), " ")
    server, _, peer = seen.partition(" ")
    return {"outcome": "reached", "server": server, "peer": peer,
            "answer": " ".join([dns.rcode.to_text(response.rcode()), *addresses]),
            "from": f"{source[0]}:{source[1]}"}


def _read(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionResetError("the server closed before its whole answer")
        data += chunk
    return data


PROBE = b"probe\n"   # what a plain probe sends; the responder answers with its name


def probe(proto: str, sport: int, dst: str, dport: int, timeout: float,
          name: str = "") -> dict:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", sport))
        sock.settimeout(timeout)
        try:
            sock.connect((dst, dport))
            if name:
                return query(sock, name)
            sock.send(PROBE)   # over TCP too: a DNS server's port tells it from a query
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(512)
                if not chunk:
                    break
                data += chunk
        except ConnectionRefusedError:
            return {"outcome": "refused"}
        except TimeoutError:
            return {"outcome": "timeout"}
        except OSError as error:
            if error.errno in UNREACHABLE:
                return {"outcome": "unreachable"}
            if error.errno == errno.EPERM:  # a netfilter rule dropped it on the way out
                return {"outcome": "not-permitted"}
            return {"outcome": "error", "error": str(error)}
    if not data:
        return {"outcome": "refused"}  # closed without a word: a reset after the handshake
    server, _, peer = data.decode().strip().partition(" ")
    return {"outcome": "reached", "server": server, "peer": peer}


def main(argv: list[str]) -> int:
    proto, sport, dst, dport, timeout, *name = argv
    print(json.dumps(probe(proto, int(sport), dst, int(dport), float(timeout), *name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
