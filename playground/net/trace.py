"""Hop and Trace: the record of one packet's walk, as data, JSON and a readable table."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.net.packet import Packet

VERDICTS = ("delivered", "dropped", "rejected", "unreachable", "expired")


@dataclass(slots=True)
class Hop:
    index: int
    where: str
    event: str
    detail: str
    packet_before: Packet
    packet_after: Packet
    dev_in: str | None = None
    dev_out: str | None = None
    route: str | None = None
    rule: str | None = None
    table: str | None = None
    chain: str | None = None
    rules_walked: int | None = None
    matched_rules: list[str] = field(default_factory=list)
    conntrack: str | None = None
    role: str = "packet"
    program: str | None = None  # the eBPF program that acted: name (section)
    map_entry: str | None = None  # the BPF map entry that decided
    src_mac: str | None = None  # the frame's MACs as it crossed the device (None: no frame)
    dst_mac: str | None = None
    time: float = 0.0  # the lab clock (seconds) when the hop happened
    drop_reason: str | None = None  # a BPF drop's reason ("Policy denied")
    src_identity: int | None = None  # Cilium's security identities of a policy verdict
    dst_identity: int | None = None
    policy_verdict: str | None = None  # a new flow's policy verdict: "L3-L4 INGRESS ALLOWED"

    @property
    def rewrote(self) -> bool:
        return self.packet_before != self.packet_after

    def to_dict(self) -> dict:
        data = {
            "index": self.index,
            "where": self.where,
            "event": self.event,
            "detail": self.detail,
            "role": self.role,
            "dev_in": self.dev_in,
            "dev_out": self.dev_out,
            "route": self.route,
            "rule": self.rule,
            "table": self.table,
            "chain": self.chain,
            "rules_walked": self.rules_walked,
            "matched_rules": list(self.matched_rules),
            "conntrack": self.conntrack,
            "program": self.program,
            "map_entry": self.map_entry,
            "src_mac": self.src_mac,
            "dst_mac": self.dst_mac,
            "time": self.time,
            "packet_before": self.packet_before.to_dict(),
            "packet_after": self.packet_after.to_dict(),
        }
        for name in ("drop_reason", "src_identity", "dst_identity", "policy_verdict"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass(frozen=True, slots=True)
class Delivery:
    namespace: str
    owner: str
    socket: str

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "owner": self.owner, "socket": self.socket}


@dataclass(slots=True)
class Trace:
    source: str
    packet: Packet
    hops: list[Hop] = field(default_factory=list)
    verdict: str = "dropped"
    reason: str = ""
    delivered_to: Delivery | None = None
    delivered_packet: Packet | None = None
    errno: str | None = None  # what the sender's own call returned, when it failed (EPERM)
    notes: list[str] = field(default_factory=list)  # what the control plane adds (one line each)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "packet": self.packet.to_dict(),
            "verdict": self.verdict,
            "reason": self.reason,
            "delivered_to": self.delivered_to.to_dict() if self.delivered_to else None,
            "delivered_packet": (
                self.delivered_packet.to_dict() if self.delivered_packet else None
            ),
            "hops": [hop.to_dict() for hop in self.hops],
        } | ({"errno": self.errno} if self.errno else {}) | (
            {"notes": list(self.notes)} if self.notes else {})

    def events(self, event: str) -> list[Hop]:
        return [hop for hop in self.hops if hop.event == event]

    def path(self) -> list[str]:
        """Namespaces in the order the primary packet entered them."""
        seen: list[str] = []
        for hop in self.hops:
            if hop.role == "packet" and (not seen or seen[-1] != hop.where):
                seen.append(hop.where)
        return seen

    def text(self) -> str:
        """A readable hop table for a terminal."""
        lines = [f"trace {self.packet.summary()} from {self.source}"]
        width = max((len(hop.where) for hop in self.hops), default=5)
        events = max([9, *(len(hop.event) for hop in self.hops)])
        for hop in self.hops:
            devs = "→".join(d for d in (hop.dev_in, hop.dev_out) if d) or "-"
            marker = "  " if hop.role == "packet" else "↩ "
            lines.append(
                f"{hop.index:>3} {marker}{hop.where:<{width}}  {hop.event:<{events}} {devs:<24} "
                f"{hop.detail}"
            )
            jumps = [f"via:   {text}" for text in hop.matched_rules[:-1]]
            for extra in (hop.route and f"route: {hop.route}", *jumps,
                          hop.rule and f"rule:  {hop.rule}",
                          hop.conntrack and f"ct:    {hop.conntrack}",
                          hop.map_entry and f"map:   {hop.map_entry}"):
                if extra:
                    lines.append(" " * (width + 8) + extra)
            if hop.rewrote:
                lines.append(" " * (width + 8)
                             + f"{hop.packet_before.summary()}  ⇒  {hop.packet_after.summary()}")
        if self.delivered_to:
            outcome = (f"verdict: delivered to {self.delivered_to.owner} "
                       f"({self.delivered_to.socket}) in {self.delivered_to.namespace}")
        else:
            outcome = f"verdict: {self.verdict} ({self.reason})"
        lines.append(outcome)
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines) + "\n"
