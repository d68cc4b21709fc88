"""Cilium's per-endpoint policy maps (cilium_policy_v2_<endpoint id>) and the lookup its
programs make in them, after bpf/lib/policy.h __policy_can_access.

A key is (remote identity, direction, protocol, destination port) where protocol and port
are matched longest-prefix first (an LPM trie): prefix 0 matches every protocol, 8 one
protocol and any port, 8+n one protocol and the ports sharing the top n bits. Identity 0
is the wildcard; it is looked up in a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.net.bpf.tabwriter import tabwrite

POLICY_MAP_PREFIX = "cilium_policy_v2_"
PIN_DIR = "/sys/fs/bpf/tc/globals"
PROTO_BITS, FULL_BITS = 8, 24  # protocol alone; protocol and the whole port
PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "sctp": 132}
PROTO_NAMES = {number: name.upper() for name, number in PROTOCOLS.items()}

# drop reasons as pkg/monitor/api names them (the datapath returns them negated)
DROP_POLICY, DROP_POLICY_DENY = 133, 181
DROP_REASONS = {DROP_POLICY: "Policy denied", DROP_POLICY_DENY: "Policy denied by denylist"}

# match types of a verdict, as policy.h names them
MATCH_L3_L4, MATCH_L3_PROTO, MATCH_L3_ONLY = "L3-L4", "L3-proto", "L3-only"
MATCH_L4_ONLY, MATCH_PROTO_ONLY, MATCH_ALL = "L4-only", "proto-only", "all"


@dataclass(frozen=True, slots=True, order=True)
class PolicyKey:
    identity: int  # the peer's security identity; 0 is any
    direction: str  # "Ingress" or "Egress", from the endpoint's side
    proto: int = 0  # 0 is any protocol (only with prefix 0)
    dport: int = 0
    prefix: int = 0  # bits of (proto, dport) that must match: 0, 8, or 8 + 1..16

    def matches(self, proto: int, dport: int) -> bool:
        if self.prefix == 0:
            return True
        if proto != self.proto:
            return False
        bits = self.prefix - PROTO_BITS
        if bits == 0:
            return True
        mask = (0xFFFF << (16 - bits)) & 0xFFFF
        return dport & mask == self.dport & mask

    def port_proto(self) -> str:
        """The PORT/PROTO column: ANY, TCP, 80/TCP or 8080-8087/TCP."""
        if self.prefix == 0:
            return "ANY"
        name = PROTO_NAMES.get(self.proto, str(self.proto))
        if self.prefix == PROTO_BITS:
            return name
        if self.prefix == FULL_BITS:
            return f"{self.dport}/{name}"
        span = (1 << (FULL_BITS - self.prefix)) - 1
        return f"{self.dport}-{self.dport + span}/{name}"


@dataclass(slots=True)
class PolicyEntry:
    deny: bool = False
    derived_from: tuple[str, ...] = ()  # the agent's note: which rule wrote it (not in the map)
    packets: int = 0
    bytes: int = 0
    cookie: int = 0


def port_keys(identity: int, direction: str, proto: int, start: int, end: int | None
              ) -> list[PolicyKey]:
    """The keys covering ports start..end, split into prefix-aligned blocks as the agent
    writes a port range (port 0 with a protocol: every port of it)."""
    if start == 0:
        return [PolicyKey(identity, direction, proto, 0, PROTO_BITS)]
    end = start if end is None else end
    keys = []
    port = start
    while port <= end:
        size = 1
        while port % (size * 2) == 0 and port + size * 2 - 1 <= end and size < 0x8000:
            size *= 2
        keys.append(PolicyKey(identity, direction, proto, port,
                              FULL_BITS - (size.bit_length() - 1)))
        port += size
    return keys


@dataclass(frozen=True, slots=True)
class Access:
    """The outcome of one lookup: allowed or a drop reason, and the entry that decided."""

    allowed: bool
    reason: int = 0  # a drop reason when not allowed
    key: PolicyKey | None = None
    entry: PolicyEntry | None = None
    match: str = ""

    @property
    def reason_text(self) -> str:
        return DROP_REASONS.get(self.reason, "")


@dataclass(eq=False)
class PolicyMap:
    endpoint_id: int
    entries: dict[PolicyKey, PolicyEntry] = field(default_factory=dict)
    max_entries: int = 16384
    # the directions with policy enforcement on: only they notify policy verdicts (the
    # endpoint's policy_verdict_filter)
    verdict_notify: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return f"{POLICY_MAP_PREFIX}{self.endpoint_id:05d}"

    @property
    def path(self) -> str:
        return f"{PIN_DIR}/{self.name}"

    def replace(self, entries: dict[PolicyKey, PolicyEntry]) -> None:
        """The agent's sync: the wanted keys, keeping the counters of those that stay."""
        for key, entry in entries.items():
            old = self.entries.get(key)
            if old is not None:
                entry.packets, entry.bytes = old.packets, old.bytes
        self.entries = dict(entries)

    def _longest(self, identity: int, direction: str, proto: int, dport: int):
        best = None
        for key, entry in self.entries.items():
            if key.identity == identity and key.direction == direction and \
                    key.matches(proto, dport) and (best is None or key.prefix > best[0].prefix):
                best = (key, entry)
        return best

    def can_access(self, remote: int, direction: str, proto: int, dport: int) -> Access:
        """__policy_can_access: the peer's identity first, then the wildcard identity;
        a deny wins, else the longer (proto, port) prefix, and on a tie the peer's own."""
        l3 = self._longest(remote, direction, proto, dport)
        l4 = None
        if l3 is None or not l3[1].deny:
            l4 = self._longest(0, direction, proto, dport)
        if l4 is not None and (l4[1].deny or l3 is None or l4[0].prefix > l3[0].prefix):
            chosen, wildcard = l4, True
        elif l3 is not None:
            chosen, wildcard = l3, False
        else:
            return Access(False, DROP_POLICY)
        key, entry = chosen
        if wildcard:
            match = MATCH_ALL if key.prefix == 0 else MATCH_PROTO_ONLY \
                if key.prefix <= PROTO_BITS else MATCH_L4_ONLY
        else:
            match = MATCH_L3_L4 if key.prefix > PROTO_BITS else MATCH_L3_PROTO \
                if key.prefix > 0 else MATCH_L3_ONLY
        if entry.deny:
            return Access(False, DROP_POLICY_DENY, key, entry, match)
        return Access(True, 0, key, entry, match)

    def account(self, access: Access, length: int) -> None:
        if access.entry is not None:
            access.entry.packets += 1
            access.entry.bytes += length

    def sorted_items(self) -> list[tuple[PolicyKey, PolicyEntry]]:
        """As the CLI sorts a dump: denies first, then by direction, then by identity."""
        order = {"Ingress": 0, "Egress": 1}
        return sorted(self.entries.items(), key=lambda item: (
            not item[1].deny, order[item[0].direction], item[0].identity, item[0].proto,
            item[0].dport, item[0].prefix))

    def listing(self, labels_of) -> str:
        """`cilium bpf policy get <id>`: `labels_of(identity)` gives an identity's labels."""
        rows = [["POLICY", "DIRECTION", "LABELS (source:key[=value])", "PORT/PROTO",
                 "PROXY PORT", "AUTH TYPE", "BYTES", "PACKETS", "PREFIX", "COOKIE"]]
        for key, entry in self.sorted_items():
            labels = labels_of(key.identity) or [str(key.identity)]
            labels = ["ANY" if label == "reserved:unknown" else label for label in labels]
            rows.append(["Deny" if entry.deny else "Allow", key.direction, labels[0],
                         key.port_proto(), "NONE", "disabled", str(entry.bytes),
                         str(entry.packets), str(key.prefix), str(entry.cookie)])
            rows += [["", "", label, "", "", "", "", "", "", ""] for label in labels[1:]]
        text = tabwrite(rows, last_padded=False)
        if not self.entries:
            text += "Policy stats empty. Perhaps the policy enforcement is disabled?\n"
        return text

    def entry_text(self, key: PolicyKey, entry: PolicyEntry) -> str:
        """One entry as the trace names it."""
        verb = "Deny" if entry.deny else "Allow"
        peer = "ANY" if key.identity == 0 else f"identity {key.identity}"
        return f"{self.name} {verb} {key.direction} {peer} {key.port_proto()}"
