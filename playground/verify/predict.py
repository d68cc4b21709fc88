"""What the model says a probe can do: every outcome it could reach, one per way its
random choices (kube-proxy's statistic rules or numgen maps, a multipath route's next hop)
could fall.

Each outcome is walked on a copy of the model, so the caller can carry on from the one
the kernel actually took (which keeps session affinity's memory in step with the kernel).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from ipaddress import IPv4Address

from playground.net.conntrack import Tuple
from playground.net.network import Network
from playground.net.packet import ICMP_REDIRECT
from playground.net.send_error import EPERM
from playground.net.trace import Trace
from playground.verify.probes import Probe

MAX_OUTCOMES = 64
RESULTS = {"rejected": "refused", "unreachable": "unreachable", "dropped": "timeout",
           "expired": "timeout"}


@dataclass
class Outcome:
    result: str  # reached, refused, unreachable, not-permitted or timeout: what the client sees
    server: str | None  # the namespace whose socket answered
    peer: tuple[IPv4Address, int] | None  # the source the server saw
    entries: dict[str, list[tuple[Tuple, Tuple]]]  # conntrack (original, reply) per namespace
    random_ports: frozenset[int]  # ports picked at random: --random-fully, fully-random, VXLAN
    network: Network | None  # the model after it (verify lets go of it once it moves on)
    answered_from: tuple[IPv4Address, int] | None = None  # the source of the answer home


class Choices:
    """A script of decisions: the first ones given, the rest taken as 0 and recorded."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.taken: list[int] = []
        self.arities: list[int] = []
        self.flows: dict[tuple, int] = {}

    def choose(self, arity: int) -> int:
        index = len(self.taken)
        pick = self.script[index] if index < len(self.script) else 0
        self.taken.append(pick)
        self.arities.append(arity)
        return pick

    def nexthop(self, ns_name: str, route, flow):
        """Once per flow and route, as the kernel's hash gives one flow one path."""
        key = (ns_name, route.prefix, flow.proto, flow.src, flow.sport, flow.dst, flow.dport)
        if key not in self.flows:
            self.flows[key] = self.choose(len(route.nexthops))
        return route.nexthops[self.flows[key]]


class ScriptedRandom(random.Random):
    """The model's random source, except that statistic draws and numgen's picks follow
    the script."""

    def __init__(self, choices: Choices, state) -> None:
        super().__init__()
        self.setstate(state)
        self.choices = choices

    def getrandbits(self, k: int) -> int:
        if k == 31:  # the statistic match draws 31 bits: either under any threshold or over
            return 0 if self.choices.choose(2) == 0 else 0x7FFFFFFF
        return super().getrandbits(k)

    def randrange(self, start, stop=None, step=1):
        if stop is None:  # numgen random mod N: one of N, each as likely (nothing else
            return self.choices.choose(start)  # on a packet's way draws with one argument)
        return super().randrange(start, stop, step)


def predict(base: Network, probe: Probe) -> list[Outcome]:
    """Every outcome, walking the tree of choices depth first from the all-zero script."""
    outcomes, pending = [], [[]]
    while pending and len(outcomes) < MAX_OUTCOMES:
        script = pending.pop()
        choices = Choices(script)
        outcomes.append(_walk(base, probe, choices))
        for index in range(len(script), len(choices.taken)):
            for other in range(1, choices.arities[index]):
                pending.append(choices.taken[:index] + [other])
    return outcomes


def _walk(base: Network, probe: Probe, choices: Choices) -> Outcome:
    network = copy.deepcopy(base)
    network.rng = ScriptedRandom(choices, network.rng.getstate())
    for ns in network.namespaces.values():
        ns.pick_nexthop = (lambda name: lambda route, flow: (
            choices.nexthop(name, route, flow) if flow is not None
            else route.nexthops[0]))(ns.name)
    first = network.send(probe.source, probe.dst, probe.proto, probe.dport, owner="verify",
                         sport=probe.sport)
    traces, result = [first], _client_sees(first, probe)
    if first.verdict == "delivered":
        traces.append(network.reply(first))
        result = "reached" if _home(traces[-1], probe) else "timeout"
        if result == "reached" and probe.proto == "tcp":
            # the client's ACK and the server's answer: the kernel exchange goes on, and a
            # namespace that sees only one direction picks the flow up from them
            ack = network.walk(network.namespace(probe.source), first.packet.with_(flags="ACK"))
            traces.append(ack)
            if ack.verdict == "delivered":
                traces.append(network.reply(ack))
    _plain(network)
    delivered = first.delivered_packet if first.verdict == "delivered" else None
    home = traces[1].delivered_packet if len(traces) > 1 and result == "reached" else None
    return Outcome(
        result, first.delivered_to.namespace if delivered else None,
        (delivered.src, delivered.sport) if delivered else None,
        {ns.name: [(e.original, e.reply) for e in ns.conntrack.entries]
         for ns in network.namespaces.values() if ns.conntrack.entries},
        frozenset(_random_ports(traces)), network,
        (home.src, home.sport) if home is not None else None)


def _plain(network: Network) -> None:
    """Give the copy back its own random source and hashing, to carry on from."""
    plain = random.Random()
    plain.setstate(network.rng.getstate())
    network.rng = plain
    for ns in network.namespaces.values():
        del ns.pick_nexthop


def _client_sees(trace: Trace, probe: Probe) -> str:
    """A refusal or an unreachable only reaches the client if the reset or ICMP error made
    it home, or if the send failed in its own namespace; otherwise it waits in vain. A
    redirect that comes home tells the client nothing: it waits on."""
    if trace.verdict == "delivered":
        return "reached"
    if trace.errno == EPERM:
        return "not-permitted"
    answered = any(h.role != "packet" and h.event == "deliver" and h.where == probe.source
                   and h.packet_after.icmp_type != ICMP_REDIRECT for h in trace.hops)
    failed_here = [h.where for h in trace.hops if h.role == "packet"][-1:] == [probe.source]
    if answered or (failed_here and trace.verdict == "unreachable"):
        return RESULTS.get(trace.verdict, "timeout")
    return "timeout"


def _home(reply: Trace, probe: Probe) -> bool:
    return reply.verdict == "delivered" and reply.delivered_to.namespace == probe.source


# how a source NAT rule that picks its port at random says so, in each packet filter
FULLY_RANDOM = {"netfilter": "--random-fully", "nftables": "fully-random"}


def _random_ports(traces: list[Trace]):
    for trace in traces:
        for hop in trace.hops:
            flag = FULLY_RANDOM.get(hop.event)
            if flag and hop.rule and flag in hop.rule \
                    and hop.packet_after.sport != hop.packet_before.sport:
                yield hop.packet_after.sport
            if hop.event == "encapsulate":  # the kernel hashes the flow with a boot-time seed
                yield hop.packet_after.sport
