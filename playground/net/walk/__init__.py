"""Walk a packet through the modelled kernels, recording every step as a Hop.

The order of steps is the Linux receive/transmit path: route lookup, the netfilter hooks
of each namespace by priority (iptables' tables, conntrack, NAT, IPVS), neighbour
resolution, link transmit, bridge switching. Each stage lives in the file of its part of
the stack and returns the next step by name (context.STEPS). Nothing here knows what kind
of namespace it is in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.net.trace import Trace

# every stage module registers its stages in context.STEPS on import
from playground.net.walk import device, forward, icmp, ipvs, output, tunnel  # noqa: F401
from playground.net.walk import input as _input  # noqa: F401
from playground.net.walk.context import Flight, Step, Walk
from playground.net.walk.icmp import echo_reply_for
from playground.net.walk.output import connect

if TYPE_CHECKING:
    from playground.net.netns import Namespace
    from playground.net.network import Network
    from playground.net.packet import Packet

__all__ = ["Walker", "echo_reply_for"]


class Walker:
    def __init__(self, network: Network) -> None:
        self.network = network

    def send(self, ns: Namespace, packet: Packet, owner: str | None = None) -> Trace:
        """Walk `packet` from `ns`; with an `owner`, a process opens a socket for it first."""
        walk = Walk(self.network, Trace(source=ns.name, packet=packet))
        flight = Flight(packet)
        if owner is None or connect(walk, ns, flight, owner):
            walk.run(Step("local_out", ns, flight))
        walk.drain()
        return walk.trace
