"""Compare what the kernel did with what the model could have done, probe by probe.

A probe matches when one of the model's outcomes agrees on everything: reached or not,
which namespace answered, the source address (and port) the server saw, and the
conntrack entries (original and reply tuples) of every namespace with rules. A port the
model picked at random (iptables' --random-fully, nftables' fully-random) matches any
port, as long as the kernel's choice is the same everywhere that port shows up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from playground.cluster.controllers.flannel import PORT as VXLAN_PORT
from playground.net.conntrack import Tuple
from playground.verify.predict import Outcome
from playground.verify.probes import Probe


@dataclass
class Observation:
    result: str
    server: str | None
    peer: tuple[IPv4Address, int] | None
    entries: dict[str, list[tuple[Tuple, Tuple]]]  # by model namespace name
    answer: str | None = None  # a DNS probe's answer: status and addresses
    answered_from: tuple[IPv4Address, int] | None = None  # where that answer came from


@dataclass
class Comparison:
    probe: Probe
    observed: Observation
    outcomes: list[Outcome]
    closest: Outcome
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(probe: Probe, outcomes: list[Outcome], observed: Observation) -> Comparison:
    ranked = sorted(((differences(o, observed, probe), i) for i, o in enumerate(outcomes)),
                    key=lambda pair: (len(pair[0]), pair[1]))
    problems, index = ranked[0]
    return Comparison(probe, observed, outcomes, outcomes[index], problems)


def differences(model: Outcome, kernel: Observation, probe: Probe) -> list[str]:
    found = []
    ports = PortMap(model.random_ports - {probe.sport, probe.dport})
    if model.result != kernel.result:
        found.append(f"model: {model.result}, kernel: {kernel.result}")
    if model.result == kernel.result == "reached":
        if model.server != kernel.server:
            found.append(f"answered by: model {model.server}, kernel {kernel.server}")
        if model.peer and kernel.peer and not (
                model.peer[0] == kernel.peer[0] and ports.same(model.peer[1], kernel.peer[1])):
            found.append(f"server saw: model {_peer(model.peer)}, kernel {_peer(kernel.peer)}")
        if probe.question and kernel.answer != probe.answer:
            found.append(f"DNS answer: model {probe.answer}, kernel {kernel.answer}")
        if probe.question and model.answered_from != kernel.answered_from:
            found.append(f"answer from: model {_peer(model.answered_from)}, kernel "
                         f"{_peer(kernel.answered_from) if kernel.answered_from else 'none'}")
    for ns in sorted(set(model.entries) | set(kernel.entries)):
        mine, theirs = model.entries.get(ns, []), kernel.entries.get(ns, [])
        if not _same_entries(mine, theirs, ports):
            found.append(f"conntrack in {ns}: model {_entries(mine)}; kernel {_entries(theirs)}")
    return found


class PortMap:
    """Ports the model drew at random, bound to the kernel's on first sight."""

    def __init__(self, random_ports: frozenset[int]) -> None:
        self.random_ports = random_ports
        self.bound: dict[int, int] = {}

    def same(self, model: int, kernel: int) -> bool:
        if model not in self.random_ports:
            return model == kernel
        return self.bound.setdefault(model, kernel) == kernel

    def snapshot(self) -> dict[int, int]:
        return dict(self.bound)


def _same_tuple(model: Tuple, kernel: Tuple, ports: PortMap) -> bool:
    return (model.proto, model.src, model.dst) == (kernel.proto, kernel.src, kernel.dst) \
        and ports.same(model.sport, kernel.sport) and ports.same(model.dport, kernel.dport)


def _is_tunnel(original: Tuple) -> bool:
    return original.proto == "udp" and original.dport == VXLAN_PORT


def _same_tunnel(model: tuple[Tuple, Tuple], kernel: tuple[Tuple, Tuple]) -> bool:
    """The same nodes both ways (so no NAT of the outer packet): any outer source port
    goes (the kernel's comes from a hash the model cannot know, and may change as above)."""
    return all((mine.src, mine.dst) == (theirs.src, theirs.dst)
               for mine, theirs in zip(model, kernel, strict=True))


def _tunnels_once(entries: list) -> list:
    """One outer VXLAN entry per pair of nodes: a retransmitted SYN-ACK leaves with a new
    hash (the kernel rethinks the socket's tx hash), so a new outer source port, and so a
    second outer flow the model, with one port per inner flow, never makes."""
    kept, seen = [], set()
    for original, reply in entries:
        if _is_tunnel(original):
            pair = (original.src, original.dst)
            if pair in seen:
                continue
            seen.add(pair)
        kept.append((original, reply))
    return kept


def _same_entries(model: list, kernel: list, ports: PortMap) -> bool:
    model, kernel = _tunnels_once(model), _tunnels_once(kernel)
    if len(model) != len(kernel):
        return False
    left = list(kernel)
    for original, reply in model:
        for candidate in left:
            saved = ports.snapshot()
            if _is_tunnel(original) and _is_tunnel(candidate[0]):
                same = _same_tunnel((original, reply), candidate)
            else:
                same = _same_tuple(original, candidate[0], ports) and \
                    _same_tuple(reply, candidate[1], ports)
            if same:
                left.remove(candidate)
                break
            ports.bound = saved
        else:
            return False
    return True


def _peer(peer: tuple[IPv4Address, int]) -> str:
    return f"{peer[0]}:{peer[1]}"


def _entries(entries: list) -> str:
    if not entries:
        return "none"
    return " | ".join(f"{o.text()} → {r.text()}" for o, r in entries)
