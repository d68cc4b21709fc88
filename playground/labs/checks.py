"""What a task's check looks at: the traces the learner sent, and the model itself."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network

import dns.rcode

from playground.cluster.cluster import ClusterError
from playground.cluster.dns import programs
from playground.cluster.dns.names import destination
from playground.cluster.dns.resolv import CLUSTER_DOMAIN, search_order
from playground.cluster.netpol.evaluate import decide
from playground.cluster.netpol.view import PolicyView
from playground.cluster.service import slices_of
from playground.cluster.targets import resolve
from playground.net.trace import Trace
from playground.session.lab import Lab

TracePredicate = Callable[[Trace], bool]


def address_of(lab: Lab, spec: str) -> IPv4Address | None:
    try:
        return resolve(lab.cluster, spec).ip
    except ClusterError:
        return None


def place_of(lab: Lab, spec: str) -> str | None:
    try:
        return resolve(lab.cluster, spec).namespace or None
    except ClusterError:
        return None


def traced(lab: Lab, src: str, dst: str, verdict: str = "delivered",
           *conditions: TracePredicate) -> bool:
    """A trace sent from `src` to `dst`'s address that ended in `verdict` and meets all
    `conditions`."""
    source, address = place_of(lab, src), address_of(lab, dst)
    return any(t.source == source and t.packet.dst == address and t.verdict == verdict
               and all(condition(t) for condition in conditions)
               for t in lab.journal.traces())


def replied(lab: Lab, to: str, *conditions: TracePredicate) -> bool:
    """A reply delivered back to `to`."""
    home = place_of(lab, to)
    return any(t.verdict == "delivered" and t.delivered_to.namespace == home
               and t.source != home and all(c(t) for c in conditions)
               for t in lab.journal.traces())


# conditions on one trace

def delivered_to(lab: Lab, spec: str) -> TracePredicate:
    return lambda t: t.delivered_to is not None and t.delivered_to.namespace == place_of(
        lab, spec)


def program_rewrote(name: str) -> TracePredicate:
    """The eBPF program `name` changed the packet (socket LB, NodePort translation)."""
    return lambda t: any(h.program and h.program.startswith(name + " ") and h.rewrote
                         for h in t.hops)


def program_acted(name: str) -> TracePredicate:
    """The eBPF program `name` has a hop in the trace, whatever it did."""
    return lambda t: any(h.program and h.program.startswith(name + " ") for h in t.hops)


def no_iptables_nat(t: Trace) -> bool:
    """No netfilter rule translated anything: the translation happened elsewhere."""
    return not any(h.event == "netfilter" and h.rewrote for h in t.hops)


def client_address_kept(lab: Lab, client: str) -> TracePredicate:
    """The server saw the client's own address as the source."""
    return lambda t: t.delivered_packet is not None and \
        t.delivered_packet.src == address_of(lab, client)


def rewritten_by(chain_prefix: str) -> TracePredicate:
    """A hop in a chain named like `chain_prefix` changed the packet (a NAT rule)."""
    return lambda t: any(h.chain and h.chain.startswith(chain_prefix) and h.rewrote
                         for h in t.hops)


def masqueraded(t: Trace) -> bool:
    return any(h.rule and "MASQUERADE" in h.rule and h.rewrote for h in t.hops)


def nat_at(place: str) -> TracePredicate:
    return lambda t: any(h.where == place and h.table == "nat" and h.rewrote for h in t.hops)


def untranslated(t: Trace) -> bool:
    """Nothing rewrote the addresses (TTL aside): the flat network."""
    return all((h.packet_before.src, h.packet_before.dst) == (h.packet_after.src,
                                                               h.packet_after.dst)
               for h in t.hops)


def bridged(t: Trace) -> bool:
    return any(h.event == "bridge" for h in t.hops)


def never_bridged(t: Trace) -> bool:
    return not bridged(t)


def outer_length(length: int) -> TracePredicate:
    """Wrapped in a tunnel whose outer packet is `length` bytes."""
    return lambda t: any(h.event == "encapsulate" and h.packet_after.length == length
                         for h in t.hops)


def too_long(t: Trace) -> bool:
    """Refused at its sender: bigger than the route's MTU, with DF set."""
    return t.packet.df and "message too long" in t.reason


def tunnelled(t: Trace) -> bool:
    """Wrapped in an outer header on one node and unwrapped on another."""
    wrapped = [h.where for h in t.hops if h.event == "encapsulate"]
    unwrapped = [h.where for h in t.hops if h.event == "decapsulate"]
    return bool(wrapped and unwrapped) and wrapped[0] != unwrapped[0]


def through_nodes(count: int) -> TracePredicate:
    return lambda t: len({w for w in t.path() if w.startswith("node/")}) >= count


def within_one_namespace(t: Trace) -> bool:
    return len(t.path()) == 1


def source_kept(lab: Lab, spec: str) -> TracePredicate:
    """The delivered packet still carries the sender's address."""
    return lambda t: t.delivered_packet is not None and \
        t.delivered_packet.src == address_of(lab, spec)


def from_address(lab: Lab, spec: str) -> TracePredicate:
    """The delivered reply seems to come from `spec`'s address (the NAT was undone)."""
    return lambda t: t.delivered_packet is not None and \
        t.delivered_packet.src == address_of(lab, spec)


DNAT_CHAINS = ("KUBE-SEP-", "endpoint-")   # kube-proxy's endpoint chains: iptables, nftables


def nat_walk(t: Trace) -> int | None:
    """How many rules the kernel walked through the nat chains to the DNAT that picked an
    endpoint: in iptables mode every Service listed before this one in KUBE-SERVICES is one
    of them; in nftables mode the @service-ips verdict map is one rule, however many."""
    return next((h.rules_walked for h in t.hops if h.chain and h.chain.startswith(DNAT_CHAINS)
                 and h.rewrote), None)


def nat_walks(lab: Lab, src: str, dst: str) -> list[int]:
    """The rules walked to the DNAT by each delivered trace from src to dst, oldest first."""
    source, address = place_of(lab, src), address_of(lab, dst)
    walks = [nat_walk(t) for t in lab.journal.traces()
             if t.source == source and t.packet.dst == address and t.verdict == "delivered"]
    return [walk for walk in walks if walk is not None]


def lookup_grew(lab: Lab, src: str, dst: str) -> bool:
    """Two deliveries of the same lookup, the later one walking more rules to its DNAT."""
    walks = nat_walks(lab, src, dst)
    return len(walks) >= 2 and walks[-1] > walks[0]


def died_at(place: str) -> TracePredicate:
    return lambda t: bool(t.hops) and t.hops[-1].where == place


# the model

def service_has_endpoints(lab: Lab, namespace: str, name: str) -> bool:
    return any(e.ready for s in slices_of(lab.cluster.api, namespace, name)
               for e in s.endpoints)


def chain_length(lab: Lab, node: str, table: str, chain: str) -> int:
    """How many rules a chain of a node holds (0 if the node or the chain is not there)."""
    try:
        tables = lab.cluster.node_namespace(node).netfilter.tables
    except ClusterError:
        return 0
    found = tables[table].chains.get(chain) if table in tables else None
    return len(found.rules) if found is not None else 0


def services_at_most(lab: Lab, count: int) -> bool:
    return len(lab.cluster.services()) <= count


def services_at_least(lab: Lab, count: int) -> bool:
    return len(lab.cluster.services()) >= count


def node_routes(lab: Lab, node: str, prefix: str) -> bool:
    """The node has a route for exactly `prefix`, through a next hop."""
    try:
        ns = lab.cluster.node_namespace(node)
    except ClusterError:
        return False
    wanted = IPv4Network(prefix)
    return any(route.prefix == wanted and (route.via or route.nexthops)
               for route in ns.main.routes())


def resolved(lab: Lab, src: str, name: str, questions: int | None = None,
             typed: str | None = None) -> bool:
    """A command from `src` whose resolver got an address for `name`, after `questions`
    queries if given, and typed as `typed` if given (a trailing dot, say)."""
    place = place_of(lab, src)
    for action in lab.journal.actions:
        asked = [leg for leg in action.legs if leg.role == "dns" and leg.trace.source == place]
        answers = [leg.message for leg in action.legs if leg.role == "dns-reply"]
        if not asked or not answers or answers[-1].rcode() != 0 or not answers[-1].answer:
            continue
        if answers[-1].question[0].name.to_text() != name:
            continue
        if questions is not None and len(asked) != questions:
            continue
        if typed is None or typed in action.words:
            return True
    return False


def forwarded_out(lab: Lab) -> bool:
    """A query a coredns pod passed on to the resolver outside."""
    return any(leg.role == "forwarded-dns" and leg.trace.verdict == "delivered"
               for action in lab.journal.actions for leg in action.legs)



def policy_decides(lab: Lab, src: str, dst: str, allowed: bool, port: int = 80,
                   protocol: str = "TCP") -> bool:
    """The lab's NetworkPolicies allow (or deny) pod NS/NAME to pod NS/NAME on the port,
    whatever the CNI enforces (the evaluator's verdict)."""
    view = PolicyView.from_api(lab.cluster.api)
    ends = [view.pod(*spec.split("/", 1)) for spec in (src, dst)]
    return None not in ends and decide(view, ends[0], ends[1], protocol, port).allowed == allowed


def noted(text: str) -> TracePredicate:
    """A trace with a note (what a policy engine adds) that says `text`."""
    return lambda t: any(text in note for note in t.notes)


def ran(lab: Lab, *starts: str) -> bool:
    """A `:` line that begins with one of `starts` was run."""
    return any(action.line.startswith(starts) for action in lab.history)


def dns_decides(lab: Lab, src: str, allowed: bool) -> bool:
    """The policies allow (or deny) `src` every CoreDNS pod on UDP 53."""
    dns = [f"{p.metadata.namespace}/{p.name}" for p in lab.cluster.pods("kube-system")
           if p.metadata.labels.get("k8s-app") == "kube-dns"]
    return bool(dns) and all(policy_decides(lab, src, pod, allowed, 53, "UDP") for pod in dns)


def sent(lab: Lab, src: str, dst: str) -> bool:
    """A trace from `src` to `dst`'s address, whatever became of it (what the CNI's policy
    engine does with it differs)."""
    source, address = place_of(lab, src), address_of(lab, dst)
    return any(t.source == source and t.packet.dst == address for t in lab.journal.traces())


def nxdomain_through_search(lab: Lab, src: str, name: str) -> bool:
    """A command from `src` whose resolver asked every name of its search order for `name`
    and was told NXDOMAIN for each."""
    place = place_of(lab, src)
    if place is None:
        return False
    wanted = search_order(name, programs.resolv_conf(lab.cluster, place))
    for action in lab.journal.actions:
        asked = [leg.message.question[0].name.to_text() for leg in action.legs
                 if leg.role == "dns" and leg.trace.source == place]
        answers = [leg.message.rcode() for leg in action.legs if leg.role == "dns-reply"]
        if asked == wanted and len(answers) == len(wanted) and \
                all(rcode == dns.rcode.NXDOMAIN for rcode in answers):
            return True
    return False


def config_names_service(lab: Lab, namespace: str, name: str, key: str) -> bool:
    """ConfigMap NAMESPACE/NAME's `key` is a URL or host whose name is a Service there, as
    the search list finds it (NAME, NAME.NS, or NAME.NS.svc.cluster.local)."""
    config = lab.cluster.api.peek("ConfigMap", namespace, name)
    found = destination(config.data.get(key, "")) if config is not None else None
    if found is None:
        return False
    labels = found.name.rstrip(".").split(".")
    zone = ["svc", *CLUSTER_DOMAIN.split(".")]
    if len(labels) > 2 and labels[2:] != zone[:len(labels) - 2]:
        return False
    where = labels[1] if len(labels) > 1 else namespace
    return lab.cluster.api.peek("Service", where, labels[0]) is not None


def dns_refused(lab: Lab, src: str) -> bool:
    """A query from `src` that kube-proxy rejected: a DNS Service with no endpoints."""
    place = place_of(lab, src)
    return any(leg.role == "dns" and leg.trace.source == place
               and leg.trace.verdict == "rejected"
               for action in lab.journal.actions for leg in action.legs)


def entered_through_announcer(t: Trace) -> bool:
    """The first node the packet reached is the one whose MetalLB speaker answered the
    gateway's ARP for the address (or whose gratuitous ARP the gateway's cache holds)."""
    nodes = [h.where for h in t.hops if h.where.startswith("node/")]
    told = [h.detail for h in t.hops if "metallb speaker on " in h.detail]
    return bool(nodes and told) and \
        f"metallb speaker on {nodes[0].removeprefix('node/')})" in told[0]


def after_gratuitous_arp(t: Trace) -> bool:
    """The gateway sent the packet on by a neighbour entry a gratuitous ARP wrote."""
    return any("from a gratuitous ARP" in h.detail for h in t.hops)


def client_address_lost(lab: Lab, client: str) -> TracePredicate:
    """The server saw another source than the client's own address (masqueraded)."""
    return lambda t: t.delivered_packet is not None and \
        t.delivered_packet.src != address_of(lab, client)


def entry_node(t: Trace) -> str | None:
    return next((h.where for h in t.hops if h.where.startswith("node/")), None)


def address_moved(lab: Lab, src: str, dst: str) -> bool:
    """Two delivered traces to `dst`'s address entered through different nodes, the later
    one by the neighbour entry a gratuitous ARP wrote."""
    source, address = place_of(lab, src), address_of(lab, dst)
    seen = [t for t in lab.journal.traces() if t.source == source and t.verdict == "delivered"
            and t.packet.dst == address and entry_node(t) is not None]
    return any(entry_node(later) != entry_node(earlier) and after_gratuitous_arp(later)
               for index, earlier in enumerate(seen) for later in seen[index + 1:])
