"""IP Virtual Server (ip_vs) of one namespace: virtual services, real servers, connections.

As the kernel does: a virtual service is (protocol, VIP, port) with a scheduler; its real
servers sit in a list where the newest is first (list_add), and round robin walks that
list from where it last stopped. A connection entry pins a flow to its real server, so
every later packet of the flow, and the replies, are translated without scheduling again.
Persistence (-p) adds a template entry per client address (client port 0, state NONE)
that sends the client's new connections to the same real server until it times out.

The views print what `ipvsadm -Ln` and `ipvsadm -Lnc` print. Nothing here knows Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.net.packet import Packet

VERSION_LINE = "IP Virtual Server version 1.2.1 (size=4096)"
PROTO_ORDER = {"tcp": 6, "udp": 17}
# the kernel's default timeouts in seconds (ip_vs_proto_tcp.c, ip_vs_proto_udp.c)
TCP_TIMEOUTS = {"NONE": 2, "ESTABLISHED": 900, "SYN_SENT": 120, "SYN_RECV": 60,
                "FIN_WAIT": 120, "TIME_WAIT": 120, "CLOSE": 10, "CLOSE_WAIT": 60,
                "LAST_ACK": 30}
UDP_TIMEOUT = 300


class IpvsError(ValueError):
    """What ipvsadm would refuse, in its words."""


@dataclass(eq=False)
class RealServer:
    address: IPv4Address
    port: int
    weight: int = 1
    forward: str = "Masq"
    active: int = 0
    inactive: int = 0

    @property
    def text(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(eq=False)
class VirtualService:
    proto: str
    address: IPv4Address
    port: int
    scheduler: str = "rr"
    persistent: int | None = None  # seconds, when -p is given
    dests: list[RealServer] = field(default_factory=list)  # kernel list order: newest first
    last: RealServer | None = None  # where round robin stopped

    @property
    def key(self) -> tuple[str, IPv4Address, int]:
        return self.proto, self.address, self.port

    @property
    def text(self) -> str:
        return f"{self.proto.upper()} {self.address}:{self.port}"

    def dest(self, address: IPv4Address, port: int) -> RealServer | None:
        return next((d for d in self.dests if d.address == address and d.port == port), None)

    def round_robin(self) -> RealServer | None:
        """ip_vs_rr_schedule: the next real server with weight after the last one chosen."""
        if not self.dests:
            return None
        start = self.dests.index(self.last) + 1 if self.last in self.dests else 0
        for offset in range(len(self.dests)):
            candidate = self.dests[(start + offset) % len(self.dests)]
            if candidate.weight > 0:
                self.last = candidate
                return candidate
        return None


@dataclass(eq=False)
class Connection:
    proto: str
    caddr: IPv4Address
    cport: int
    vaddr: IPv4Address
    vport: int
    daddr: IPv4Address
    dport: int
    dest: RealServer
    state: str
    expires_at: float
    template: bool = False

    def timeout(self) -> int:
        if self.proto == "udp":
            return UDP_TIMEOUT
        return TCP_TIMEOUTS.get(self.state, 120)

    def line(self, now: float) -> str:
        """One line of `ipvsadm -Lnc` (print_conn: expire as minutes:seconds)."""
        left = max(0, int(self.expires_at - now))
        expire = f"{left // 60:02d}:{left % 60:02d}"
        return (f"{self.proto.upper():<3} {expire:<6} {self.state:<11} "
                f"{f'{self.caddr}:{self.cport}':<18} {f'{self.vaddr}:{self.vport}':<18} "
                f"{self.daddr}:{self.dport}")


class Ipvs:
    """One namespace's IPVS table and connection table."""

    def __init__(self) -> None:
        self.services: dict[tuple[str, IPv4Address, int], VirtualService] = {}
        self.connections: list[Connection] = []

    # ipvsadm -A/-E/-D and -a/-e/-d

    def add_service(self, proto: str, address: IPv4Address, port: int, scheduler: str = "rr",
                    persistent: int | None = None) -> VirtualService:
        if scheduler != "rr":
            raise IpvsError(f"Scheduler not found: ip_vs_{scheduler}.ko (only rr is modelled)")
        key = (proto, IPv4Address(address), port)
        if key in self.services:
            raise IpvsError("Service already exists")
        service = self.services[key] = VirtualService(proto, key[1], port, scheduler,
                                                      persistent)
        return service

    def service(self, proto: str, address: IPv4Address, port: int) -> VirtualService | None:
        return self.services.get((proto, IPv4Address(address), port))

    def delete_service(self, service: VirtualService) -> None:
        self.services.pop(service.key, None)
        self.connections = [c for c in self.connections
                            if (c.proto, c.vaddr, c.vport) != service.key]

    def add_dest(self, service: VirtualService, address: IPv4Address, port: int,
                 weight: int = 1) -> RealServer:
        if service.dest(IPv4Address(address), port) is not None:
            raise IpvsError("Destination already exists")
        dest = RealServer(IPv4Address(address), port, weight)
        service.dests.insert(0, dest)  # list_add: the newest real server comes first
        return dest

    def delete_dest(self, service: VirtualService, dest: RealServer) -> None:
        if service.last is dest:  # round robin carries on from the one before it
            index = service.dests.index(dest)
            service.last = service.dests[index - 1] if index > 0 else None
        service.dests.remove(dest)
        self.connections = [c for c in self.connections if c.dest is not dest]

    # the packet path

    def expire(self, now: float) -> None:
        for conn in [c for c in self.connections if c.expires_at <= now]:
            self._forget(conn)

    def _forget(self, conn: Connection) -> None:
        self.connections.remove(conn)
        if not conn.template:
            if conn.state == "ESTABLISHED":
                conn.dest.active -= 1
            else:
                conn.dest.inactive -= 1

    def conn_in(self, pkt: Packet, now: float) -> Connection | None:
        """The connection a client-to-VIP packet belongs to (ip_vs_conn_in_get)."""
        self.expire(now)
        return next((c for c in self.connections if not c.template and c.proto == pkt.proto
                     and (c.caddr, c.cport, c.vaddr, c.vport)
                     == (pkt.src, pkt.sport, pkt.dst, pkt.dport)), None)

    def conn_out(self, pkt: Packet, now: float) -> Connection | None:
        """The connection a real server's reply belongs to (ip_vs_conn_out_get)."""
        self.expire(now)
        return next((c for c in self.connections if not c.template and c.proto == pkt.proto
                     and (c.daddr, c.dport, c.caddr, c.cport)
                     == (pkt.src, pkt.sport, pkt.dst, pkt.dport)), None)

    def schedule(self, service: VirtualService, pkt: Packet,
                 now: float) -> tuple[Connection | None, str]:
        """A new connection for the first packet of a flow, and how its real server was
        chosen; no real server leaves (None, why)."""
        dest, how = None, ""
        if service.persistent is not None:
            template = next((c for c in self.connections if c.template
                             and c.proto == service.proto and c.caddr == pkt.src
                             and (c.vaddr, c.vport) == (service.address, service.port)
                             and c.expires_at > now and c.dest in service.dests), None)
            if template is not None:
                dest = template.dest
                template.expires_at = now + service.persistent
                how = (f"persistence: {pkt.src} was sent to {dest.text} before, and its "
                       f"template entry has not expired")
        if dest is None:
            dest = service.round_robin()
            if dest is None:
                return None, f"{service.text} has no real server with weight above 0"
            how = (f"round robin: {dest.text} is next in turn among its "
                   f"{len(service.dests)} real server(s)")
            if service.persistent is not None:
                self.connections.append(Connection(
                    service.proto, pkt.src, 0, service.address, service.port, dest.address,
                    dest.port, dest, "NONE", now + service.persistent, template=True))
        conn = Connection(service.proto, pkt.src, pkt.sport, service.address, service.port,
                          dest.address, dest.port, dest, "NONE", now)
        conn.expires_at = now + conn.timeout()
        dest.inactive += 1
        self.connections.append(conn)
        return conn, how

    def set_state(self, conn: Connection, outbound: bool, pkt: Packet, now: float) -> None:
        """Advance the connection's state as the director sees the flow (NAT: both ways)."""
        before = conn.state
        if conn.proto == "udp":
            conn.state = "UDP"
        else:
            flags = pkt.flag_set
            if "RST" in flags:
                conn.state = "CLOSE"
            elif "SYN" in flags:
                conn.state = "SYN_RECV" if conn.state in ("NONE", "SYN_RECV") else conn.state
            elif "FIN" in flags:
                conn.state = "CLOSE_WAIT" if outbound else "FIN_WAIT"
            elif "ACK" in flags and conn.state == "SYN_RECV" and not outbound:
                conn.state = "ESTABLISHED"
        if before != "ESTABLISHED" and conn.state == "ESTABLISHED":
            conn.dest.inactive, conn.dest.active = conn.dest.inactive - 1, conn.dest.active + 1
        elif before == "ESTABLISHED" and conn.state != "ESTABLISHED":
            conn.dest.inactive, conn.dest.active = conn.dest.inactive + 1, conn.dest.active - 1
        conn.expires_at = now + conn.timeout()

    # views

    def listing(self, now: float = 0.0) -> str:
        """`ipvsadm -Ln`: services sorted by protocol, address, port; real servers by
        address and port (ipvs_cmp_services, ipvs_cmp_dests)."""
        self.expire(now)
        lines = [VERSION_LINE, "Prot LocalAddress:Port Scheduler Flags",
                 "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
        for service in sorted(self.services.values(), key=lambda s: (
                PROTO_ORDER[s.proto], int(s.address), s.port)):
            head = f"{service.proto.upper()}  {service.address}:{service.port}"[:33]
            flags = f" persistent {service.persistent}" if service.persistent is not None \
                else ""
            lines.append(f"{head} {service.scheduler}{flags}")
            for dest in sorted(service.dests, key=lambda d: (int(d.address), d.port)):
                lines.append(f"  -> {dest.text[:28]:<28} {dest.forward:<7} {dest.weight:<6} "
                             f"{dest.active:<10} {dest.inactive:<10}")
        return "\n".join(lines) + "\n"

    def connection_listing(self, now: float = 0.0) -> str:
        """`ipvsadm -Lnc`: every connection entry, templates included."""
        self.expire(now)
        lines = ["IPVS connection entries",
                 f"pro expire {'state':<11} {'source':<18} {'virtual':<18} destination"]
        lines += [conn.line(now) for conn in self.connections]
        return "\n".join(lines) + "\n"
