"""What one `trace` sends, leg by leg: the packet from what the user typed, its answer when
asked for, and the connections a proxy on the way opens on its behalf (an ingress
controller's to the backend it chose). The CLI, the compare view and the `:` line all build
their legs here, so a new kind of leg (DNS, a gateway, a load-balancer proxy) is added once."""

from __future__ import annotations

from dataclasses import dataclass

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.ingress import choose, is_controller
from playground.cluster.targets import resolve
from playground.net.trace import Trace

# the smallest IP length of each kind of packet: IPv4 header plus the bare L4 header
SMALLEST = {"tcp": 40, "udp": 28, "icmp": 28}


def send(cluster: Cluster, src: str, dst: str, proto: str = "tcp", port: int | None = None,
         namespace: str | None = None, size: int | None = None, df: bool = False) -> Trace:
    """Send from one target to another, as its container or process would; returns the Trace.
    `size` is the IP length in bytes; `df` sets Don't Fragment."""
    if port is not None and not 1 <= port <= 65535:
        raise ClusterError(f"port {port} is out of range: use 1-65535")
    if size is not None and not SMALLEST.get(proto, 20) <= size <= 65535:
        raise ClusterError(f"size {size} is out of range: a {proto} packet is "
                           f"{SMALLEST.get(proto, 20)}-65535 bytes")
    source = resolve(cluster, src, namespace)
    if not source.namespace:
        raise ClusterError(f"{src}: no pod or node in the lab has the address {source.ip}; "
                           "a packet needs a place to start from")
    target = resolve(cluster, dst, namespace)
    port = port if port is not None else target.default_port(proto)
    owner = source.owner or (source.pod.spec.containers[0].name if source.pod else "process")
    return cluster.network.send(source.namespace, target.ip, proto, port, owner=owner,
                                size=size, df=df)


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
    host: str = ""  # the HTTP Host and path a proxy routes by
    path: str = "/"


@dataclass(frozen=True)
class Leg:
    title: str  # the line that introduces it; "" for the packet itself
    why: str  # what chose where it goes, when something did ("" for the packet)
    trace: Trace
    role: str = "packet"  # packet, reply or proxied
    service: str = ""  # where a proxied leg goes: svc/NAMESPACE/NAME:PORT


def legs(cluster: Cluster, request: TraceRequest) -> list[Leg]:
    trace = send(cluster, request.src, request.dst, request.proto, request.port,
                 request.namespace, size=request.size, df=request.df)
    found = [Leg("", "", trace)]
    if request.reply:
        if trace.verdict != "delivered":
            raise ClusterError(f"there is no reply to trace: the packet was {trace.verdict} "
                               f"({trace.reason})")
        found.append(Leg("the answer:", "", cluster.network.reply(trace), "reply"))
    proxied = follow_ingress(cluster, trace, request.host, request.path)
    if proxied is not None:
        found.append(proxied)
    return found


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
