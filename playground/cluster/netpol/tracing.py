"""What a policy engine adds to a trace: the ends of the connection as the policies see
them (the source, and the destination after DNAT) handed to the cluster's engine."""

from __future__ import annotations

from playground.cluster.netpol.view import PolicyView

POLICED = ("tcp", "udp", "sctp")   # NetworkPolicy ports name no other protocol


def annotate(cluster, trace) -> None:
    """Add the engine's notes to `trace` (nothing when the lab has no NetworkPolicy)."""
    if not cluster.api.count("NetworkPolicy") or trace.packet.proto not in POLICED:
        return
    arrived = trace.delivered_packet or (trace.hops[-1].packet_after if trace.hops
                                         else trace.packet)
    view = PolicyView.from_api(cluster.api)
    src = view.peer_at(trace.packet.src)
    dst = view.peer_at(arrived.dst)
    trace.notes.extend(cluster.policy.trace_notes(view, src, dst, trace.packet.proto.upper(),
                                                  arrived.dport))
