"""What one `trace` sends, leg by leg: the packet from what the user typed, its answer when
asked for, and the connections a proxy on the way opens on its behalf (an ingress
controller's to the backend it chose). The CLI, the compare view and the `:` line all build
their legs here, so a new kind of leg (DNS, a gateway, a load-balancer proxy) is added once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.dns import programs
from playground.cluster.dns.names import Destination, addresses_in, destination
from playground.cluster.dns.resolv import search_order
from playground.cluster.dns.show import fields, summary
from playground.cluster.dns.wire import framed, scrub
from playground.cluster.gateway.controller import running as gateway_controllers
from playground.cluster.ingress import choose, is_controller
from playground.cluster.netpol.tracing import annotate
from playground.cluster.targets import Target, resolve
from playground.net.trace import Trace

# the smallest IP length of each kind of packet: IPv4 header plus the bare L4 header
SMALLEST = {"tcp": 40, "udp": 28, "icmp": 28}
UDP_HEADERS, TCP_HEADERS = SMALLEST["udp"], SMALLEST["tcp"]


def send(cluster: Cluster, src: str, dst: str, proto: str = "tcp", port: int | None = None,
         namespace: str | None = None, size: int | None = None, df: bool = False) -> Trace:
    """Send from one target to another, as its container or process would; returns the Trace.
    `size` is the IP length in bytes; `df` sets Don't Fragment."""
    if port is not None and not 1 <= port <= 65535:
        raise ClusterError(f"port {port} is out of range: use 1-65535")
    if size is not None and not SMALLEST.get(proto, 20) <= size <= 65535:
        raise ClusterError(f"size {size} is out of range: a {proto} packet is "
                           f"{SMALLEST.get(proto, 20)}-65535 bytes")
    source = sender(cluster, src, namespace)
    target = resolve(cluster, dst, namespace)
    port = port if port is not None else target.default_port(proto)
    trace = cluster.network.send(source.namespace, target.ip, proto, port,
                                 owner=owner_of(source), size=size, df=df)
    annotate(cluster, trace)
    return trace


def sender(cluster: Cluster, src: str, namespace: str | None) -> Target:
    source = resolve(cluster, src, namespace)
    if not source.namespace:
        raise ClusterError(f"{src}: no pod or node in the lab has the address {source.ip}; "
                           "a packet needs a place to start from")
    return source


def owner_of(source: Target) -> str:
    return source.owner or (source.pod.spec.containers[0].name if source.pod else "process")


@dataclass(frozen=True)
class TraceRequest:
    """What the user asked `trace` for."""

    src: str
    dst: str
    proto: str = "tcp"
    port: int | None = None
    namespace: str | None = None
    size: int | None = None
    df: bool = False
    reply: bool = False  # also the answer back
    host: str = ""  # the HTTP Host and path (with its ?query) a proxy routes by
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()   # more request headers, in the order given


def request_line(request: TraceRequest) -> str:
    """The HTTP request as the trace's proxy leg names it: method, Host, path and headers."""
    shown = f"{request.method} Host {request.host or '(none)'} {request.path}"
    return shown + "".join(f", {name}: {value}" for name, value in request.headers)


def request_fields(request: TraceRequest) -> dict:
    return {"method": request.method, "host": request.host, "path": request.path,
            "headers": [{"name": n, "value": v} for n, v in request.headers]}


@dataclass(frozen=True)
class Leg:
    title: str  # the line that introduces it; "" for the packet itself
    why: str  # what chose where it goes, when something did ("" for the packet)
    trace: Trace
    role: str = "packet"  # packet, reply, proxied; dns, dns-reply (and forwarded-...)
    service: str = ""  # where a proxied leg goes: svc/NAMESPACE/NAME:PORT
    proxy: str = "ingress"  # what chose a proxied leg: ingress, gateway, a load balancer's proxy
    message: dns.message.Message | None = None  # the DNS message a dns leg carries


def main_leg(found: list[Leg]) -> Leg:
    """The connection itself; when a name did not resolve, the resolver's last leg."""
    return next((leg for leg in found if leg.role == "packet"), found[-1])


def legs(cluster: Cluster, request: TraceRequest) -> list[Leg]:
    named = destination(request.dst)
    if named is None:
        trace = send(cluster, request.src, request.dst, request.proto, request.port,
                     request.namespace, size=request.size, df=request.df)
        found = [Leg("", "", trace)]
    else:
        found, trace = _by_name(cluster, request, named)
        if trace is None:
            return found
        found.append(Leg(f"then the connection to {trace.packet.dst}:", "", trace))
        if not request.host and named.scheme:
            request = TraceRequest(**{**request.__dict__, "host": named.name,
                                      "path": named.path})
    if request.reply:
        if trace.verdict != "delivered":
            raise ClusterError(f"there is no reply to trace: the packet was {trace.verdict} "
                               f"({trace.reason})")
        found.append(Leg("the answer:", "", cluster.network.reply(trace), "reply"))
    last = trace
    for recipe in cluster.recipes:   # a load balancer that is itself a proxy: its own leg
        onward = recipe.proxied(cluster, last)
        if onward is not None:
            found.append(onward)
            last = onward.trace
    proxied = follow_ingress(cluster, last, request.host, request.path.partition("?")[0]) or \
        follow_gateway(cluster, last, request)
    if proxied is not None:
        found.append(proxied)
    return found


def _by_name(cluster: Cluster, request: TraceRequest, named: Destination):
    """Resolve the name as the sender's resolver does, then connect to the first address."""
    source = sender(cluster, request.src, request.namespace)
    found, response = lookup(cluster, source, named.name)
    addresses = addresses_in(response) if response is not None else []
    if not addresses:
        return found, None
    port = request.port or named.port
    trace = cluster.network.send(source.namespace, IPv4Address(addresses[0]), request.proto,
                                 port, owner=owner_of(source), size=request.size, df=request.df)
    annotate(cluster, trace)
    return found, trace


GLIBC_EDNS = 1200  # RESOLV_EDNS_BUFFER_SIZE: glibc's OPT record with `options edns0`


@dataclass(frozen=True)
class Asking:
    """How a client asks: glibc's stub resolver by default; dig and nslookup differ."""

    search: bool = True
    attempts: int | None = None  # None: resolv.conf's
    servers: tuple[str, ...] = ()  # (): resolv.conf's
    proto: str | None = None  # None: as resolv.conf says (udp; tcp with `options use-vc`)
    edns: int | None = None  # the EDNS UDP size offered; -1 none; None: resolv.conf's


def lookup(cluster: Cluster, source: Target, name: str, qtype: str = "A",
           asking: Asking = Asking()) -> tuple[list[Leg], dns.message.Message | None]:
    """res_nsearch: each name of the search order until one has an answer; NXDOMAIN, NODATA
    and SERVFAIL go on to the next name, no answer at all from any server ends it."""
    conf = programs.resolv_conf(cluster, source.namespace)
    absolute = name if name.endswith(".") else name + "."
    names = search_order(name, conf) if asking.search else [absolute]
    rdtype = dns.rdatatype.from_text(qtype)
    edns = asking.edns if asking.edns is not None else \
        GLIBC_EDNS if conf.has("edns0") else -1
    proto = asking.proto or ("tcp" if conf.has("use-vc") else "udp")
    # use-vc: every server once over TCP, as after a truncated answer
    attempts = asking.attempts or (1 if proto == "tcp" else conf.attempts)
    found: list[Leg] = []
    response = None
    for qname in names:
        query = dns.message.make_query(qname, rdtype, id=cluster.network.rng.randrange(65536),
                                       use_edns=0 if edns >= 0 else False,
                                       payload=edns if edns >= 0 else None)
        response = ask(cluster, source.namespace, owner_of(source),
                       asking.servers or conf.nameservers, attempts, query, proto, found)
        if response is None or (response.rcode() == dns.rcode.NOERROR and any(
                r.rdtype in (rdtype, dns.rdatatype.CNAME) for r in response.answer)):
            break
    return found, response


def ask(cluster: Cluster, namespace: str, owner: str, servers, attempts: int,
        query: dns.message.Message, proto: str, found: list[Leg], prefix: str = ""):
    """res_send: every attempt tries the nameservers in order; an answer ends it, a refusal,
    silence or SERVFAIL moves to the next; the last SERVFAIL is the answer if all fail. A
    truncated (TC) answer over UDP asks the same server again over TCP, and from then on
    every server once over TCP (send_dg sets v_circuit, then `try = statp->retry`)."""
    last, circuit = None, False
    for attempt in range(attempts):
        for server in servers:
            why = f"attempt {attempt + 1} of {attempts}" if attempt else ""
            answer = exchange(cluster, namespace, owner, server, query, proto, found, prefix,
                              why)
            if answer is not None and proto == "udp" and answer.flags & dns.flags.TC:
                proto, circuit = "tcp", True
                answer = exchange(cluster, namespace, owner, server, query, proto, found,
                                  prefix, "the answer was truncated (TC): the same server "
                                  "again over TCP")
            if answer is not None:
                if answer.rcode() != dns.rcode.SERVFAIL:
                    return answer
                last = answer
        if circuit:
            break
    return last


def exchange(cluster: Cluster, namespace: str, owner: str, server: str,
             query: dns.message.Message, proto: str, found: list[Leg], prefix: str,
             why: str) -> dns.message.Message | None:
    """One query to one server and, if the program there answers, the answer back: a
    datagram each way, or over TCP a connection and the messages behind their length."""
    kind = prefix and "forwarded-dns" or "dns"
    wire = query.to_wire()
    over = "" if proto == "udp" else " over TCP"
    if proto == "udp":
        trace = cluster.network.send(namespace, IPv4Address(server), proto, 53, owner=owner,
                                     size=UDP_HEADERS + len(wire))
    else:
        trace = _connect(cluster, namespace, owner, server, framed(wire), found, prefix, why,
                         kind)
        if trace is None:
            return None
        why = ""
    _carries(trace, query)
    found.append(Leg(f"{prefix}DNS query{over} to {server}:53: {summary(query)}", why, trace,
                     kind, message=query))
    if trace.verdict != "delivered":
        return None
    delivery = trace.delivered_to

    def forward(outgoing: dns.message.Message) -> dns.message.Message | None:
        # forward's proxy asks upstream over the transport the client used (connect.go)
        return ask(cluster, delivery.namespace, delivery.owner,
                   programs.upstreams(cluster, delivery.namespace), 1, outgoing, proto,
                   found, f"{delivery.namespace} forwards it: ")

    served = programs.serve(cluster, delivery, dns.message.from_wire(wire), forward)
    if served is None:
        return None
    answer_wire = scrub(served.response, query, proto)
    answer = dns.message.from_wire(answer_wire)
    if proto == "udp":
        reply = cluster.network.reply(trace, size=UDP_HEADERS + len(answer_wire))
    else:
        reply = cluster.network.reply(trace, size=TCP_HEADERS + len(framed(answer_wire)),
                                      flags="PSH,ACK")
    _carries(reply, answer)
    found.append(Leg(f"{prefix}the answer{over} ({served.how}): {summary(answer)}", "",
                     reply, f"{kind}-reply", message=answer))
    if reply.verdict != "delivered":
        return None
    return answer


def _connect(cluster: Cluster, namespace: str, owner: str, server: str, data: bytes,
             found: list[Leg], prefix: str, why: str, kind: str) -> Trace | None:
    """DNS over TCP: the handshake to port 53, then the segment that carries the query (its
    ACK of the SYN,ACK); None when the connection is not made."""
    syn = cluster.network.send(namespace, IPv4Address(server), "tcp", 53, owner=owner)
    found.append(Leg(f"{prefix}DNS over TCP: the connection to {server}:53", why, syn,
                     f"{kind}-tcp"))
    if syn.verdict != "delivered":
        return None
    accepted = cluster.network.reply(syn)
    found.append(Leg(f"{prefix}its SYN,ACK", "", accepted, f"{kind}-tcp-reply"))
    if accepted.verdict != "delivered":
        return None
    segment = syn.packet.with_(flags="PSH,ACK", length=TCP_HEADERS + len(data))
    return cluster.network.walk(cluster.network.namespace(namespace), segment)


def message_size(leg: Leg) -> int:
    """The bytes of the DNS message a leg's packet carries (over TCP, after its length)."""
    packet = leg.trace.packet
    return packet.length - (UDP_HEADERS if packet.proto == "udp" else TCP_HEADERS + 2)


def _carries(trace: Trace, message: dns.message.Message) -> None:
    """The message in the detail of the hop that sends it and of the one that takes it in."""
    ends = trace.hops[:1]
    if trace.verdict == "delivered" and trace.hops and trace.hops[-1] is not trace.hops[0]:
        ends.append(trace.hops[-1])
    for hop in ends:
        hop.detail = f"{hop.detail} · DNS {summary(message)}" if hop.detail else \
            f"DNS {summary(message)}"


def unresolved(name: str, found: list[Leg]) -> str:
    """Why a name gave no address, as getaddrinfo's caller reports it."""
    answers = [leg.message for leg in found if leg.role == "dns-reply"]
    if not answers:
        last = found[-1].trace
        why = f": {last.reason}" if last.verdict == "dropped" and last.reason else ""
        return (f"could not resolve {name}: no nameserver answered (the queries were "
                f"{last.verdict}{why})")
    status = dns.rcode.to_text(answers[-1].rcode())
    what = "NODATA (the name has no address)" if status == "NOERROR" else status
    return f"could not resolve {name}: {what}, after {len(answers)} answers"


def text(found: list[Leg]) -> str:
    """The legs as a terminal shows them: each one's title, the DNS message it carries
    field by field, then its hops."""
    parts = []
    for index, leg in enumerate(found):
        head = [leg.title] if leg.title and (index or leg.role != "packet") else []
        if leg.why:
            head.append(f"  ({leg.why})")
        if leg.message is not None:
            head += [f"  {line}" for line in fields(leg.message)]
        parts.append("\n".join(head) + ("\n" if head else "") + leg.trace.text())
    return "\n".join(parts)


def follow_ingress(cluster: Cluster, trace: Trace, host: str, path: str) -> Leg | None:
    """If the trace ended in an ingress controller, route the request as it would and send
    its second connection, from the controller pod to the backend Service."""
    if trace.verdict != "delivered" or not trace.delivered_to.namespace.startswith("pod/"):
        return None
    _, namespace, name = trace.delivered_to.namespace.split("/")
    pod = cluster.api.peek("Pod", namespace, name)
    if pod is None or not is_controller(pod):
        return None
    route = choose(cluster.ingresses(), host, path)
    if route is None:
        raise ClusterError(f"no Ingress rule matches host {host!r} and path {path!r}: the "
                           "controller would answer 404")
    backend_ns = route.ingress.metadata.namespace
    spec = f"svc/{backend_ns}/{route.backend.service}:{route.backend.port}"
    leg = send(cluster, f"pod/{namespace}/{name}", spec)
    return Leg(f"the ingress controller's own connection to {spec}:", route.why, leg,
               "proxied", spec)


REASONS = {301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
           308: "Permanent Redirect", 404: "Not Found", 500: "Internal Server Error",
           503: "Service Unavailable"}


def follow_gateway(cluster: Cluster, trace: Trace, request: TraceRequest) -> Leg | None:
    """If the trace ended at a Gateway's proxy, what the controller that runs it does with
    the request."""
    for controller in gateway_controllers(cluster):
        found = controller.follow(cluster, trace, request)
        if found is not None:   # the request it routed, then how
            return replace(found, why=f"{request_line(request)}: {found.why}")
    return None
