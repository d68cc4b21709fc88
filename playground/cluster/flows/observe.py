"""A trace's hops as the flows Hubble would log: one where the packet crosses into or out of
a pod or a node (Cilium's trace observation points), one where a Service address is
translated, and one where the packet is dropped."""

from __future__ import annotations

from dataclasses import dataclass, replace

from playground.cluster.flows.drops import DropReason, drop_reason
from playground.cluster.flows.endpoints import Directory, Endpoint
from playground.net.packet import Packet
from playground.net.trace import Hop, Trace

# pkg/monitor/api/types.go: the observation points and their sub_type numbers
POINTS = {"to-endpoint": 0, "to-stack": 3, "to-overlay": 4, "from-endpoint": 5,
          "from-overlay": 9, "from-network": 10, "to-network": 11}
TRACE_EVENT, DROP_EVENT, SOCK_EVENT, POLICY_VERDICT_EVENT = 4, 1, 7, 9
# the datapath's match types (policy.h) as Hubble names and numbers them (monitor/api)
MATCH_TYPES = {"none": ("none", 0), "L3-only": ("L3-Only", 1), "L3-L4": ("L3-L4", 2),
               "L4-only": ("L4-Only", 3), "all": ("all", 4), "L3-proto": ("L3-Proto", 5),
               "proto-only": ("Proto-Only", 6)}


@dataclass(frozen=True)
class Flow:
    time: float              # lab seconds
    node: str                # the node that observed it
    verdict: str             # FORWARDED, DROPPED, TRANSLATED
    point: str               # observation point, "" for drops
    packet: Packet
    source: Endpoint
    destination: Endpoint
    is_reply: bool | None    # None: unknown (drops)
    direction: str = ""      # INGRESS, EGRESS or "" (unknown)
    drop: DropReason | None = None
    source_service: tuple[str, str] | None = None
    destination_service: tuple[str, str] | None = None
    xlate: str = ""          # post-xlate-fwd / post-xlate-rev on a TRANSLATED flow
    policy_match: str = ""   # a policy verdict's match type, as Hubble names it

    @property
    def policy_verdict(self) -> bool:
        return bool(self.policy_match)

    @property
    def kind(self) -> str:
        """What the compact printer shows as the flow's type."""
        if self.policy_verdict:
            return f"policy-verdict:{self.policy_match} {self.direction}"
        if self.drop is not None:
            return self.drop.text
        return self.xlate or self.point


def place(where: str, directory: Directory) -> tuple[str, str]:
    """(kind, node) of a namespace: ('pod', its node), ('node', name) or ('outside', '')."""
    if where.startswith("node/"):
        return "node", where.split("/", 1)[1]
    if where.startswith("pod/"):
        _, namespace, name = where.split("/", 2)
        node = next((e.node for e in directory.pods.values()
                     if e.namespace == namespace and e.pod_name == name), "")
        return "pod", node
    return "outside", ""


def _seen(packet: Packet) -> Packet:
    """Hubble decodes the inner packet of a VXLAN one (the overlay's payload)."""
    return packet.payload if packet.vni is not None and packet.payload is not None else packet


class Observer:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def flow(self, hop: Hop, node: str, verdict: str, point: str, packet: Packet,
             reply: bool | None, **extra) -> Flow:
        d = self.directory
        packet = _seen(packet)
        src, dst = d.endpoint(str(packet.src), node), d.endpoint(str(packet.dst), node)
        local = src if src.node == node and src.pod_name else \
            dst if dst.node == node and dst.pod_name else None
        direction = ""
        if local is not None and reply is not None:
            direction = "EGRESS" if (local is src) != reply else "INGRESS"
        return Flow(hop.time, node, verdict, point, packet, src, dst, reply, direction,
                    source_service=d.service(str(packet.src), packet.sport),
                    destination_service=d.service(str(packet.dst), packet.dport), **extra)

    def crossing(self, before: Hop, after: Hop, reply: bool) -> list[Flow]:
        """The events of a packet leaving `before`'s namespace into `after`'s: the sender's
        side, then the receiver's (node to node: to-network there, from-network here)."""
        came, node_from = place(before.where, self.directory)
        went, node_to = place(after.where, self.directory)
        sent, got = before.packet_after, after.packet_before
        if came == "pod" and went == "node":
            return [self.flow(after, node_to, "FORWARDED", "to-stack", sent, reply)]
        if came == "node" and went == "pod":
            return [self.flow(after, node_from, "FORWARDED", "to-endpoint", got, reply)]
        found = []
        if came == "node":   # onto the wire, to another node or outside the cluster
            point = "to-overlay" if sent.vni is not None else "to-network"
            found.append(self.flow(before, node_from, "FORWARDED", point, sent, reply))
        if went == "node":
            point = "from-overlay" if got.vni is not None else "from-network"
            found.append(self.flow(after, node_to, "FORWARDED", point, got, reply))
        return found   # between namespaces outside the cluster no Cilium agent sees it

    def translation(self, hop: Hop, reply: bool) -> Flow | None:
        """A Service frontend rewritten to a backend (or back, on the answer)."""
        before, after = hop.packet_before, hop.packet_after
        kind, node = place(hop.where, self.directory)
        if kind == "outside" or not node:
            return None
        if (before.dst, before.dport) != (after.dst, after.dport):
            service = self.directory.service(str(before.dst), before.dport)
            if service is None:
                return None
            found = self.flow(hop, node, "TRANSLATED", "", after, reply, xlate="post-xlate-fwd")
            return _with_service(found, destination=service)
        if (before.src, before.sport) != (after.src, after.sport):
            service = self.directory.service(str(after.src), after.sport)
            if service is None:
                return None
            found = self.flow(hop, node, "TRANSLATED", "", after, reply, xlate="post-xlate-rev")
            return _with_service(found, source=service)
        return None

    def policy(self, hop: Hop, reply: bool) -> Flow | None:
        """A new connection's policy verdict at an endpoint's program (allowed or denied)."""
        match, direction, outcome = hop.policy_verdict.split()
        _, node = place(hop.where, self.directory)
        if not node:
            return None
        verdict = "FORWARDED" if outcome == "ALLOWED" else "DROPPED"
        found = self.flow(hop, node, verdict, "", hop.packet_before, reply,
                          policy_match=MATCH_TYPES[match][0])
        return replace(found, direction=direction)

    def dropped(self, trace: Trace) -> Flow | None:
        last = next((h for h in reversed(trace.hops) if h.role == "packet"), None)
        if last is None or trace.verdict == "delivered":
            return None
        reason = drop_reason([trace.reason, last.detail, last.rule or "",
                              *last.matched_rules])
        kind, node = place(last.where, self.directory)
        if reason is None or not node:
            return None
        return self.flow(last, node, "DROPPED", "", last.packet_before, None, drop=reason)

    def trace(self, trace: Trace, reply: bool = False) -> list[Flow]:
        flows: list[Flow] = []
        last: dict[str, Hop] = {}
        for hop in trace.hops:
            backwards = reply or hop.role != "packet"   # an answer, a reset, an ICMP error
            before = last.get(hop.role)
            if before is not None and before.where != hop.where:
                flows.extend(self.crossing(before, hop, backwards))
            if hop.policy_verdict:
                flows.append(self.policy(hop, backwards))
            if hop.rewrote:
                flows.append(self.translation(hop, backwards))
            last[hop.role] = hop
        flows.append(self.dropped(trace))
        return [f for f in flows if f is not None]


def _with_service(flow: Flow, source=None, destination=None) -> Flow:
    return replace(flow, source_service=source or flow.source_service,
                   destination_service=destination or flow.destination_service)
