"""The traffic generator: many connections to one Service, and how they spread."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster
from playground.cluster.legs import send


@dataclass
class Spread:
    service: str
    sent: int
    by_endpoint: Counter
    failed: Counter
    rules: list[str]  # the Service's rules with their counters, on the sender's node
    heading: str = "rule counters on the sending node (iptables-save -c):"
    traces: list = field(default_factory=list)   # kept when asked (a capture of them all)

    def text(self) -> str:
        lines = [f"{self.sent} connections to {self.service}"]
        width = max((len(k) for k in self.by_endpoint), default=8)
        for endpoint, count in sorted(self.by_endpoint.items()):
            share = 100 * count / self.sent
            lines.append(f"  {endpoint:<{width}}  {count:>5}  {share:5.1f}%  "
                         + "█" * round(share / 2))
        for reason, count in sorted(self.failed.items()):
            lines.append(f"  not delivered: {count} ({reason})")
        if self.rules:
            lines.append(self.heading)
            lines.extend(f"  {rule}" for rule in self.rules)
        return "\n".join(lines) + "\n"


def generate(cluster: Cluster, src: str, dst: str, count: int, proto: str = "tcp",
             port: int | None = None, namespace: str | None = None,
             keep: bool = False) -> Spread:
    by_endpoint: Counter = Counter()
    kept = []
    failed: Counter = Counter()
    first = None
    for _ in range(count):
        trace = send(cluster, src, dst, proto, port, namespace)
        first = first or trace
        if keep:
            kept.append(trace)
        if trace.verdict == "delivered":
            by_endpoint[trace.delivered_to.namespace] += 1
        else:
            failed[trace.verdict] += 1
    if first is not None and first.events("ipvs"):
        return Spread(dst, count, by_endpoint, failed, _virtual_service(cluster, first),
                      "the virtual service on the sending node (ipvsadm -Ln):", kept)
    return Spread(dst, count, by_endpoint, failed, _service_rules(cluster, first), traces=kept)


def _virtual_service(cluster: Cluster, trace) -> list[str]:
    """The IPVS virtual service the first connection met, with its real servers' counts."""
    hop = trace.events("ipvs")[0]
    pkt = hop.packet_before
    lines = cluster.network.namespace(hop.where).ipvs.listing(cluster.network.clock).splitlines()
    head = f"{pkt.proto.upper()}  {pkt.dst}:{pkt.dport} "
    start = next((i for i, line in enumerate(lines) if line.startswith(head)), None)
    if start is None:
        return []
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("  ->"):
            break
        block.append(line.rstrip())
    return lines[1:3] + block


def _service_rules(cluster: Cluster, trace) -> list[str]:
    """The KUBE-SVC/KUBE-SEP rules the first connection walked, with live counters."""
    if trace is None:
        return []
    hop = next((h for h in trace.hops if h.table == "nat" and h.chain
                and h.chain.startswith("KUBE-SEP-")), None)
    if hop is None:
        return []
    ns = cluster.network.namespace(hop.where)
    service_chain = next((text.split()[1] for text in hop.matched_rules
                          if text.split()[1].startswith(("KUBE-SVC-", "KUBE-SVL-"))), None)
    if service_chain is None:
        return []
    nf = ns.netfilter
    chain = nf.chain("nat", service_chain)
    return ["[{}:{}] ".format(*nf.rule_counters(chain, r)) + r.text(service_chain)
            for r in chain.rules]
