"""NFQUEUE in the kernel lab: the queue rules the kernel can load, and the verdict tables
the kernel's queue programs answer from, computed by the model's own programs.

The kernel has no nft `queue` statement without nft_queue (CONFIG_NFT_QUEUE); the same
match with the xtables NFQUEUE target (nft_compat) queues the same packets to the same
queue with the same bypass, so the chain is loaded without its queue rules and each is
appended after, in order, by queue_rule.py."""

from __future__ import annotations

import copy
import sys

from playground.net.nftables.expr import Payload
from playground.net.nftables.stmt import Match, Queue, SetRef
from playground.net.packet import sctp_init, tcp_syn, udp_datagram
from playground.verify.command import Command, in_ns

# a lab the kernel cannot build is refused with ValueError, as materialise's plan does

MAKERS = {"tcp": tcp_syn, "udp": udp_datagram, "sctp": sctp_init}
EPHEMERAL = 40000   # the source port of a judged flow: verdicts never read it


def queue_rules(ns):
    """(table, chain, rule) of every rule that queues, each the last of its chain's kind."""
    found = []
    for table in ns.nft.tables.values():
        for chain in table.chains.values():
            queued = [i for i, r in enumerate(chain.rules)
                      if any(isinstance(s, Queue) for s in r.statements)]
            if queued and queued != list(range(len(chain.rules) - len(queued),
                                               len(chain.rules))):
                raise ValueError(f"verify appends queue rules after the others: in "
                                  f"{ns.name} {table.family} {table.name} {chain.name} a "
                                  "rule follows a queue rule")
            found += [(table, chain, chain.rules[i]) for i in queued]
    return found


def without_queue_rules(ns):
    """A copy of the namespace's nf_tables with its queue rules taken out."""
    tables = copy.deepcopy(ns.nft)
    for table in tables.tables.values():
        for chain in table.chains.values():
            chain.rules = [r for r in chain.rules
                           if not any(isinstance(s, Queue) for s in r.statements)]
    return tables


def append_commands(name: str, ns, programs) -> list[Command]:
    commands = []
    for table, chain, rule in queue_rules(ns):
        match, queue = _shape(ns, table, chain, rule)
        flag = "bypass" if "bypass" in queue.flags else "-"
        commands.append(in_ns(name, sys.executable, str(programs / "queue_rule.py"),
                              table.family, table.name, chain.name, match.left.field,
                              match.right.name, str(queue.low), flag, rule.comment or ""))
    return commands


def _shape(ns, table, chain, rule):
    """The one form queue_rule.py writes: `ip saddr|daddr @SET queue num N [bypass]`."""
    statements = rule.statements
    match, queue = (statements + [None, None])[:2]
    if len(statements) == 2 and isinstance(match, Match) and isinstance(queue, Queue) and \
            isinstance(match.left, Payload) and match.left.protocol == "ip" and \
            match.left.field in ("saddr", "daddr") and match.op == "==" and \
            isinstance(match.right, SetRef) and queue.low == queue.high:
        return match, queue
    raise ValueError(f"verify cannot load this queue rule into the kernel ({ns.name} "
                      f"{table.family} {table.name} {chain.name}): {rule.text()}")


def verdict_tables(network, ports: set[int], protos: set[str]) -> dict:
    """{(namespace, queue): {"SRC DST PROTO DPORT": verdict}} for every namespace with a
    queue program: each flow between the lab's addresses on the probes' protocols and
    the given ports, as the model's program answers it."""
    addresses = sorted({a.ip for ns in network.namespaces.values() for a in ns.addresses
                        if a.scope == "global"})
    tables = {}
    for ns in network.namespaces.values():
        for number, program in ns.nfqueues.items():
            table = {}
            for proto in sorted(protos & set(MAKERS)):
                for src in addresses:
                    for dst in addresses:
                        for port in sorted(ports):
                            packet = MAKERS[proto](src, dst, EPHEMERAL, port)
                            answer = program.verdict(ns.name, packet, "POSTROUTING", None,
                                                     None)
                            table[f"{src} {dst} {proto} {port}"] = answer.verdict
            tables[ns.name, number] = table
    return tables
