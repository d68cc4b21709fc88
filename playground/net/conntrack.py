"""Connection tracking: tuples, TCP states, NAT bindings and the `conntrack -L` view.

NAT follows the kernel's method: a DNAT or SNAT decision rewrites the entry's reply
tuple once, on the first packet; every later packet in either direction is rewritten
to the inverse of the *other* direction's tuple, without walking the nat table again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.net.packet import (
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    PROTO_NUMBERS,
    Packet,
)

ORIGINAL, REPLY = 0, 1

# Timeouts in seconds, the kernel's defaults (nf_conntrack_*_timeout_*).
TCP_TIMEOUTS = {
    "SYN_SENT": 120,
    "SYN_RECV": 60,
    "ESTABLISHED": 432000,
    "FIN_WAIT": 120,
    "CLOSE_WAIT": 60,
    "LAST_ACK": 30,
    "TIME_WAIT": 120,
    "CLOSE": 10,
}
UDP_TIMEOUT, UDP_STREAM_TIMEOUT, ICMP_TIMEOUT = 30, 120, 30
SCTP_TIMEOUTS = {"COOKIE_WAIT": 3, "CLOSED": 10}   # nf_conntrack_sctp_timeout_*


@dataclass(frozen=True, slots=True)
class Tuple:
    """What conntrack keys on. For ICMP, sport holds the echo id and dport the type."""

    proto: str
    src: IPv4Address
    sport: int
    dst: IPv4Address
    dport: int

    def invert(self) -> Tuple:
        if self.proto == "icmp":
            reply_type = {ICMP_ECHO_REQUEST: ICMP_ECHO_REPLY}.get(self.dport, ICMP_ECHO_REQUEST)
            return Tuple(self.proto, self.dst, self.sport, self.src, reply_type)
        return Tuple(self.proto, self.dst, self.dport, self.src, self.sport)

    def text(self) -> str:
        if self.proto == "icmp":
            return f"src={self.src} dst={self.dst} type={self.dport} code=0 id={self.sport}"
        return f"src={self.src} dst={self.dst} sport={self.sport} dport={self.dport}"


def tuple_of(packet: Packet) -> Tuple:
    if packet.proto == "icmp":
        return Tuple("icmp", packet.src, packet.icmp_id, packet.dst, packet.icmp_type or 0)
    return Tuple(packet.proto, packet.src, packet.sport, packet.dst, packet.dport)


@dataclass(eq=False, slots=True)
class Entry:
    original: Tuple
    reply: Tuple
    state: str = ""
    timeout: int = 0
    expires_at: float = 0.0
    status: set[str] = field(default_factory=set)
    mark: int = 0
    confirmed: bool = False
    nat_done: set[str] = field(default_factory=set)

    def tuple(self, direction: int) -> Tuple:
        return self.original if direction == ORIGINAL else self.reply

    def text(self, now: float | None = None) -> str:
        """One line of `conntrack -L`; the timeout is what is left of it at `now`."""
        proto = self.original.proto
        left = self.timeout if now is None else max(0, int(self.expires_at - now))
        head = f"{proto:<8} {PROTO_NUMBERS[proto]} {left} "
        if proto in ("tcp", "sctp"):
            head += f"{self.state} "
        line = head + self.original.text() + " "
        if "SEEN_REPLY" not in self.status:
            line += "[UNREPLIED] "
        line += self.reply.text() + " "
        if "ASSURED" in self.status:
            line += "[ASSURED] "
        return line + f"mark={self.mark} use=1"


class Conntrack:
    """One namespace's connection table."""

    # the tables that hold a flow, in any lab of the process: a sweep over 5,000 nodes' tables
    # after every sync (kube-proxy's UDP clean-up) need not start when there are none
    holding: weakref.WeakSet[Conntrack] = weakref.WeakSet()

    def __init__(self, clock=lambda: 0.0) -> None:
        self._by_tuple: dict[Tuple, tuple[Entry, int]] = {}
        self.entries: list[Entry] = []
        self.clock = clock

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, packet: Packet) -> tuple[Entry, int] | None:
        found = self._by_tuple.get(tuple_of(packet))
        if found is not None and found[0].expires_at <= self.clock():
            self.remove(found[0])  # timed out on the lab clock
            return None
        return found

    def lookup_related(self, error: Packet) -> tuple[Entry, int] | None:
        """The flow an ICMP error is about, and the direction the error travels in.

        As nf_conntrack does: the quoted packet's tuple, inverted, is looked up; it was sent
        after any NAT, so only the inverted tuple is sure to be one of the entry's."""
        found = self._by_tuple.get(tuple_of(error.inner).invert())
        if found is None or found[0].expires_at <= self.clock():
            return None
        return found

    def expire(self) -> None:
        now = self.clock()
        for entry in [e for e in self.entries if e.expires_at <= now]:
            self.remove(entry)

    def new(self, packet: Packet) -> Entry:
        """An unconfirmed entry for the first packet of a flow; confirmed on leaving the stack."""
        original = tuple_of(packet)
        entry = Entry(original, original.invert())
        entry.status.add("NEW")
        self.update_state(entry, ORIGINAL, packet)
        return entry

    def is_taken(self, reply: Tuple, entry: Entry) -> bool:
        found = self._by_tuple.get(reply)
        return found is not None and found[0] is not entry

    def confirm(self, entry: Entry, packet: Packet) -> None:
        if entry.confirmed:
            return
        entry.confirmed = True
        entry.status.discard("NEW")
        self._by_tuple[entry.original] = (entry, ORIGINAL)
        self._by_tuple[entry.reply] = (entry, REPLY)
        if not self.entries:
            Conntrack.holding.add(self)
        self.entries.append(entry)
        self.update_state(entry, ORIGINAL, packet)

    def update_state(self, entry: Entry, direction: int, packet: Packet) -> None:
        """Advance the protocol state machine and reset the timeout."""
        if packet.proto == "tcp" and "RST" in packet.flag_set and entry.confirmed \
                and "SEEN_REPLY" not in entry.status:
            self.remove(entry)  # as the kernel: a flow whose only answer is a reset is forgotten
            return
        if direction == REPLY:
            entry.status.add("SEEN_REPLY")
        if packet.proto == "tcp":
            flags = packet.flag_set
            if "RST" in flags:
                entry.state = "CLOSE"
            elif flags == {"SYN"} and direction == ORIGINAL:
                entry.state = entry.state or "SYN_SENT"
            elif {"SYN", "ACK"} <= flags and direction == REPLY:
                entry.state = "SYN_RECV"
            elif "ACK" in flags and entry.state in ("SYN_RECV", ""):
                entry.state = "ESTABLISHED"
                entry.status.add("ASSURED")
            entry.timeout = TCP_TIMEOUTS.get(entry.state, 120)
        elif packet.proto == "sctp":
            # nf_conntrack_proto_sctp: INIT and INIT_ACK leave it in COOKIE_WAIT
            flags = packet.flag_set
            entry.state = "CLOSED" if "ABORT" in flags else entry.state or "COOKIE_WAIT"
            entry.timeout = SCTP_TIMEOUTS[entry.state]
        elif packet.proto == "udp":
            # a UDP flow is assured once traffic went both ways
            if direction == REPLY:
                entry.status.add("ASSURED")
            entry.timeout = UDP_STREAM_TIMEOUT if "ASSURED" in entry.status else UDP_TIMEOUT
        else:
            entry.timeout = ICMP_TIMEOUT
        entry.expires_at = self.clock() + entry.timeout

    def bind_nat(self, entry: Entry, manip: str, address: IPv4Address, port: int | None) -> None:
        """Record a DNAT ("DST") or SNAT ("SRC") decision by rewriting the reply tuple."""
        reply = entry.reply
        if manip == "DST":
            new_port = port if port is not None else reply.sport
            entry.reply = Tuple(reply.proto, address, new_port, reply.dst, reply.dport)
            entry.status.add("DST_NAT")
        else:
            new_port = port if port is not None else reply.dport
            entry.reply = Tuple(reply.proto, reply.src, reply.sport, address, new_port)
            entry.status.add("SRC_NAT")
        entry.nat_done.add(manip)

    def remove(self, entry: Entry) -> None:
        self._by_tuple.pop(entry.original, None)
        self._by_tuple.pop(entry.reply, None)
        self.entries.remove(entry)
        if not self.entries:
            Conntrack.holding.discard(self)

    def flush(self) -> None:
        self._by_tuple.clear()
        self.entries.clear()
        Conntrack.holding.discard(self)

    def remove_where(self, proto: str, reply_source: IPv4Address) -> int:
        """`conntrack -D -p PROTO --reply-src IP`: forget flows answered by an address."""
        doomed = [e for e in self.entries
                  if e.original.proto == proto and e.reply.src == reply_source]
        for entry in doomed:
            self.remove(entry)
        return len(doomed)

    def listing(self) -> str:
        self.expire()
        now = self.clock()
        return "".join(entry.text(now) + "\n" for entry in self.entries)

    @staticmethod
    def summary(count: int) -> str:
        return f"conntrack v1.4.7 (conntrack-tools): {count} flow entries have been shown."


def nat_rewrite(packet: Packet, entry: Entry, direction: int, manip: str) -> Packet:
    """Apply the entry's binding at a DST (PREROUTING/OUTPUT) or SRC (POSTROUTING/INPUT) hook."""
    wanted = "DST_NAT" if manip == "DST" else "SRC_NAT"
    if direction == REPLY:
        wanted = "SRC_NAT" if wanted == "DST_NAT" else "DST_NAT"
    if wanted not in entry.status:
        return packet
    target = entry.tuple(1 - direction).invert()
    if manip == "DST":
        if packet.proto == "icmp":
            return packet.with_(dst=target.dst)
        return packet.with_(dst=target.dst, dport=target.dport)
    if packet.proto == "icmp":
        return packet.with_(src=target.src)
    return packet.with_(src=target.src, sport=target.sport)


def related_rewrite(error: Packet, entry: Entry, direction: int, manip: str) -> Packet:
    """An ICMP error about a tracked flow: translate the outer header and the quoted packet."""
    wanted = "DST_NAT" if manip == "DST" else "SRC_NAT"
    if direction == REPLY:
        wanted = "SRC_NAT" if wanted == "DST_NAT" else "DST_NAT"
    if wanted not in entry.status or error.inner is None:
        return error
    target = entry.tuple(1 - direction).invert()
    inner = error.inner
    if manip == "DST":
        outer = error.with_(dst=target.dst)
        if inner.proto == "icmp":
            inner = inner.with_(src=target.dst)
        else:
            inner = inner.with_(src=target.dst, sport=target.dport)
    else:
        outer = error.with_(src=target.src)
        if inner.proto == "icmp":
            inner = inner.with_(dst=target.src)
        else:
            inner = inner.with_(dst=target.src, dport=target.sport)
    return outer.with_(inner=inner)
