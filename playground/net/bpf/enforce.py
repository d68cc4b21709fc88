"""Policy enforcement in Cilium's endpoint programs: the peer's identity from the ipcache
(or from the tunnel key / skb mark the packet brought), then the endpoint's policy map.

Every packet of the original direction is checked (policy changes reach established
flows); replies pass by conntrack before this is asked. What the maps hold is written by
the agent, which may also leave an `explain` callback: a sentence naming the rules behind
a verdict, since the map itself only knows identities and ports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address

from playground.net.bpf.ipcache import HOST, REMOTE_NODE, RESERVED, Ipcache
from playground.net.bpf.policy import PROTOCOLS, Access, PolicyEntry, PolicyKey, PolicyMap
from playground.net.packet import Packet

# skb->mark carrying a security identity (MARK_MAGIC_IDENTITY), as bpf/lib/identity.h packs it
MARK_MAGIC_IDENTITY, MARK_MAGIC_MASK = 0x0F00, 0x0F00

# explain(direction, endpoint ip, peer ip, peer identity, proto name, port, allowed) -> text
Explain = Callable[[str, IPv4Address, IPv4Address, int, str, int, bool], str]


def identity_mark(identity: int) -> int:
    return ((identity & 0xFFFF) << 16) | MARK_MAGIC_IDENTITY | ((identity >> 16) & 0xFF)


def identity_of_mark(mark: int) -> int | None:
    if mark & MARK_MAGIC_MASK != MARK_MAGIC_IDENTITY:
        return None
    return ((mark >> 16) & 0xFFFF) | ((mark & 0xFF) << 16)


def allow_all() -> dict[PolicyKey, PolicyEntry]:
    """What an endpoint no policy selects gets: both directions open to any identity."""
    return {PolicyKey(0, "Ingress"): PolicyEntry(), PolicyKey(0, "Egress"): PolicyEntry()}


@dataclass(frozen=True, slots=True)
class Check:
    allowed: bool
    detail: str
    entry: str
    reason: str | None
    src_identity: int
    dst_identity: int
    direction: str = ""   # INGRESS or EGRESS, as a policy verdict event names it
    match: str = ""       # the match type that allowed it (policy.h's), "none" for a miss


def l4(pkt: Packet) -> tuple[int, int]:
    """The protocol number and port a policy key is matched on (ICMP has no port)."""
    proto = PROTOCOLS.get(pkt.proto, 0)
    return proto, pkt.dport if pkt.proto in ("tcp", "udp", "sctp") else 0


def name_of(identity: int) -> str:
    reserved = RESERVED.get(identity)
    return f"identity {identity}" + (f" ({reserved})" if reserved else "")


class Enforcement:
    """The ipcache and every endpoint's policy map of one node."""

    def __init__(self) -> None:
        self.ipcache = Ipcache()
        self.maps: dict[int, PolicyMap] = {}
        self.explain: Explain | None = None

    def add(self, endpoint_id: int) -> PolicyMap:
        policy_map = PolicyMap(endpoint_id)
        policy_map.replace(allow_all())
        self.maps[endpoint_id] = policy_map
        return policy_map

    def remove(self, endpoint_id: int) -> None:
        self.maps.pop(endpoint_id, None)

    def egress(self, endpoint_id: int, identity: int, pkt: Packet) -> Check:
        """At the source endpoint (from-container): may it send to the destination?"""
        peer = self.ipcache.identity_of(pkt.dst)
        how = f"{pkt.dst} is {name_of(peer)} ({self.ipcache.entry_text(pkt.dst)})"
        return self._check(endpoint_id, "Egress", identity, peer, pkt.src, pkt.dst, pkt, how)

    def ingress(self, endpoint_id: int, identity: int, pkt: Packet, mark: int) -> Check:
        """At the destination endpoint (to-container): may the source reach it? The
        source's identity rides in the skb mark when the packet brought one (from the
        tunnel's VNI), else the ipcache names it."""
        from_mark = identity_of_mark(mark)
        if from_mark is not None:
            peer = from_mark
            how = f"the skb mark 0x{mark:08x} carries source {name_of(from_mark)} (from the VNI)"
        else:
            peer = self.ipcache.identity_of(pkt.src)
            how = f"{pkt.src} is {name_of(peer)} ({self.ipcache.entry_text(pkt.src)})"
        return self._check(endpoint_id, "Ingress", peer, identity, pkt.dst, pkt.src, pkt, how)

    def _check(self, endpoint_id: int, direction: str, src: int, dst: int,
               local: IPv4Address, remote: IPv4Address, pkt: Packet, how: str) -> Check:
        policy_map = self.maps.get(endpoint_id)
        if policy_map is None:
            return Check(True, f"endpoint {endpoint_id} has no policy map yet", "", None, src, dst,
                         direction.upper())
        peer = dst if direction == "Egress" else src
        proto, port = l4(pkt)
        access = policy_map.can_access(peer, direction, proto, port)
        if access.allowed:
            policy_map.account(access, pkt.length)
        sentence = self._sentence(policy_map, direction, access, how)
        if self.explain is not None:
            why = self.explain(direction, local, remote, peer, pkt.proto.upper(), port,
                               access.allowed)
            if why:
                sentence += f"; {why}"
        entry = policy_map.entry_text(access.key, access.entry) if access.key else \
            f"{policy_map.name}: no {direction} entry for {name_of(peer)} or ANY on " \
            f"{pkt.proto.upper()}{'/' + str(port) if port else ''}"
        return Check(access.allowed, sentence, entry, None if access.allowed else
                     access.reason_text, src, dst, direction.upper(),
                     ("" if direction not in policy_map.verdict_notify else
                      access.match if access.allowed else "none"))

    @staticmethod
    def _sentence(policy_map: PolicyMap, direction: str, access: Access, how: str) -> str:
        where = f"{direction.lower()} policy of endpoint {policy_map.endpoint_id}: {how}"
        if access.allowed:
            source = ""
            if access.entry.derived_from:
                source = f": {'; '.join(access.entry.derived_from)}"
            return f"{where}; {policy_map.name} allows it ({access.match} match{source})"
        if access.key is not None and access.entry.deny:
            return f"{where}; {policy_map.name} denies it, so the packet is dropped: " \
                   f"{access.reason_text}"
        return f"{where}; no entry of {policy_map.name} matches, so the packet is dropped: " \
               f"{access.reason_text} (DROP_POLICY)"


def node_identity(local: bool) -> int:
    """What a node's own address is to this node's programs: itself, or a remote node."""
    return HOST if local else REMOTE_NODE
