"""What every stage of a walk shares: the packet in flight, the record, the table of steps.

A stage is a function `(walk, *args) -> Step`: it records its hops and says what comes
next, or END when this packet's walk is over. Stages find each other only by name in
STEPS, so each file of stages imports this module and nothing else of the walk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.net.conntrack import Entry
from playground.net.packet import Packet
from playground.net.trace import Delivery, Hop, Trace

if TYPE_CHECKING:
    from playground.net.bpf.program import Verdict
    from playground.net.netns import Namespace, RouteResult
    from playground.net.network import Network

MAX_STEPS = 2000


@dataclass(slots=True)
class Tracked:
    """The conntrack entry a packet carries inside one namespace."""

    entry: Entry
    direction: int
    state: str


@dataclass(slots=True)
class Flight:
    """A packet in flight plus the skb metadata that travels with it."""

    packet: Packet
    role: str = "packet"
    mark: int = 0
    tracked: Tracked | None = None
    untracked: bool = False  # NOTRACK (or IPVS without conntrack): conntrack leaves it alone
    src_mac: str | None = None
    dst_mac: str | None = None
    invalid: bool = False
    carried: Flight | None = None  # set on a tunnel's outer packet: the frame inside
    ipvs_ns: str | None = None  # the namespace whose IPVS already handled it (ipvs_property)
    tunnel_id: int | None = None  # the tunnel key's id a decapsulating device left on the skb
    phys_in: str | None = None  # br_netfilter's record of the bridge port it entered by
    phys_out: str | None = None  # and the port the bridge forwards it to (bridged hooks)

    def scrub(self) -> None:
        """What a new skb in another namespace forgets: the mark and the conntrack state."""
        self.mark, self.tracked, self.invalid, self.untracked = 0, None, False, False
        self.tunnel_id = None
        self.phys_in = self.phys_out = None


class Step:
    """The next stage to run (a name in STEPS) and its arguments."""

    __slots__ = ("name", "args")

    def __init__(self, name: str, *args) -> None:
        self.name = name
        self.args = args

    def __repr__(self) -> str:
        return f"Step({self.name!r})"


END = Step("end")  # this packet's walk is over (its outcome, if any, already recorded)
STEPS: dict[str, Callable[..., Step]] = {}


def stage(fn: Callable[..., Step]) -> Callable[..., Step]:
    """Register a stage under its function's name."""
    if fn.__name__ in STEPS:
        raise ValueError(f"two stages named {fn.__name__}")
    STEPS[fn.__name__] = fn
    return fn


class Walk:
    """One trace being made: the record, the packets still to walk and the step budget."""

    def __init__(self, network: Network, trace: Trace) -> None:
        self.network = network
        self.trace = trace
        self.pending: deque[Step] = deque()
        self.steps = 0

    def run(self, step: Step) -> None:
        steps = STEPS
        while step is not END:
            self.steps += 1
            if self.steps > MAX_STEPS:
                self.finish("dropped", "the walk exceeded its step limit")
                return
            step = steps[step.name](self, *step.args)

    def drain(self) -> None:
        """Walk the packets the first one caused (errors, resets, answers) in order."""
        while self.pending:
            self.run(self.pending.popleft())

    # recording

    def hop(self, ns: Namespace, flight: Flight, event: str, detail: str,
            after: Packet | None = None, **fields) -> Hop:
        before = flight.packet
        hop = Hop(len(self.trace.hops) + 1, ns.name, event, detail, before,
                  before if after is None else after, role=flight.role,
                  src_mac=flight.src_mac, dst_mac=flight.dst_mac, time=self.network.clock,
                  **fields)
        self.trace.hops.append(hop)
        return hop

    def bpf_hop(self, ns: Namespace, flight: Flight, program, where: str, verdict: Verdict,
                **fields) -> None:
        for name in ("drop_reason", "src_identity", "dst_identity", "policy_verdict"):
            if getattr(verdict, name) is not None:
                fields[name] = getattr(verdict, name)
        self.hop(ns, flight, "bpf", f"{program.name} ({where}) → {verdict.action}: "
                 f"{verdict.detail}", after=verdict.packet, program=program.label,
                 map_entry=verdict.entry, **fields)

    def finish(self, verdict: str, reason: str, flight: Flight | None = None) -> None:
        """Set the outcome once, from the primary packet; later packets only add hops."""
        if flight is not None and flight.role != "packet":
            return
        if self.trace.reason:
            return
        self.trace.verdict, self.trace.reason = verdict, reason

    def delivered(self, ns: Namespace, flight: Flight, owner: str, socket: str) -> None:
        """A socket (or the kernel) took the packet: the outcome, if it is the first one."""
        trace = self.trace
        if flight.role == "packet" and not trace.reason:
            trace.verdict = "delivered"
            trace.reason = f"delivered in {ns.name}"
            trace.delivered_to = Delivery(ns.name, owner, socket)
            trace.delivered_packet = flight.packet

    # netfilter

    def hooks(self, ns: Namespace, flight: Flight, hook: str, in_dev: str | None,
              out_dev: str | None) -> Step | None:
        """Run the hook's entries by priority: None when the packet goes on (NF_ACCEPT),
        else the step an entry sent it to (END when it was dropped or stolen)."""
        for _priority, _name, fn in ns.hooks.entries[hook]:
            step = fn(self, ns, flight, hook, in_dev, out_dev)
            if step is not None:
                return step
        return None

    @staticmethod
    def route_sentence(result: RouteResult, dst) -> str:
        route = result.route
        if route.type == "local":
            return f"{dst} is local"
        if route.nexthops:
            return (f"{dst} matches a multipath route to {route.prefix}: the flow's hash picks "
                    f"next hop {result.gateway} on {result.dev} (of {len(route.nexthops)})")
        if result.gateway is not None:
            return f"{dst} matches {route.prefix}: next hop {result.gateway} on {result.dev}"
        return f"{dst} matches {route.prefix}: directly on {result.dev}"
