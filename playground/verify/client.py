"""One probe from inside a network namespace: connect (TCP) or send (UDP) from a fixed
source port, read the responder's answer, print the outcome as one JSON line.

    python -m playground.verify.client tcp SPORT DST DPORT TIMEOUT

Standard library only: it starts fast.
"""

from __future__ import annotations

import errno
import json
import socket
import sys

UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH}


def probe(proto: str, sport: int, dst: str, dport: int, timeout: float) -> dict:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", sport))
        sock.settimeout(timeout)
        try:
            sock.connect((dst, dport))
            if proto == "udp":
                sock.send(b"probe\n")
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
    proto, sport, dst, dport, timeout = argv
    print(json.dumps(probe(proto, int(sport), dst, int(dport), float(timeout))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
