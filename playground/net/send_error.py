"""What the call that sent a packet hears when a netfilter rule drops it on its way out.

A DROP at OUTPUT or POSTROUTING (a REJECT too: it queues its answer, then drops) makes
ip_local_out return EPERM to the socket that sent the packet. A UDP or ICMP socket's
send() fails with it ("Operation not permitted"); TCP's connect() does not: tcp_connect
passes over any error but ECONNREFUSED and waits for an answer to its SYN (a REJECT's
port unreachable, or nothing, and the SYN again after a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playground.net.netns import Namespace

REPORTING = ("udp", "icmp")  # the sockets whose send() returns the error
EPERM = "EPERM"


def send_fails(walk, ns: Namespace, flight, hook: str, in_dev: str | None,
               action: str) -> None:
    """After a rule's verdict on `flight` at `hook`: if it dropped (or rejected) the
    sender's own packet leaving its socket, record that the send failed, on the trace and
    as a hop of its own."""
    if action not in ("DROP", "REJECT"):
        return
    if hook not in ("OUTPUT", "POSTROUTING") or in_dev is not None:
        return  # a forwarded packet: its sender's call returned long ago
    if flight.role != "packet" or flight.carried is not None or ns.name != walk.trace.source:
        return  # the kernel's own packets (errors, resets, a tunnel's outer packet)
    if flight.packet.proto not in REPORTING:
        return
    walk.trace.errno = EPERM
    walk.hop(ns, flight, "drop", f"the rule's drop fails the {flight.packet.proto} socket's "
             "send() with EPERM ('Operation not permitted'): the packet never leaves")
