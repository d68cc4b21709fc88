"""What kube-proxy in IPVS mode wants on one node: virtual servers, ipset members, rules.

Names, set types, comments and the order of rules follow the real IPVS proxier
(pkg/proxy/ipvs). This module only computes; the controller in ipvs.py applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.service import EndpointSlice, Service
from playground.proxy.rules import (
    MASQ_MARK,
    NodeRules,
    backends_for,
    categorize,
)

DUMMY_DEVICE = "kube-ipvs0"
# kube-proxy's sets in the order it creates them: (name, type, comment)
IPSETS = [
    ("KUBE-LOOP-BACK", "hash:ip,port,ip",
     "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    ("KUBE-CLUSTER-IP", "hash:ip,port",
     "Kubernetes service cluster ip + port for masquerade purpose"),
    ("KUBE-EXTERNAL-IP", "hash:ip,port",
     "Kubernetes service external ip + port for masquerade and filter purpose"),
    ("KUBE-EXTERNAL-IP-LOCAL", "hash:ip,port",
     "Kubernetes service external ip + port with externalTrafficPolicy=local"),
    ("KUBE-LOAD-BALANCER", "hash:ip,port", "Kubernetes service lb portal"),
    ("KUBE-LOAD-BALANCER-FW", "hash:ip,port",
     "Kubernetes service load balancer ip + port for load balancer with sourceRange"),
    ("KUBE-LOAD-BALANCER-LOCAL", "hash:ip,port",
     "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
    ("KUBE-LOAD-BALANCER-SOURCE-IP", "hash:ip,port,ip",
     "Kubernetes service load balancer ip + port + source IP for packet filter purpose"),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net",
     "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"),
    ("KUBE-NODE-PORT-TCP", "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port",
     "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    ("KUBE-NODE-PORT-UDP", "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port",
     "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    ("KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "Kubernetes health check node port"),
    ("KUBE-IPVS-IPS", "hash:ip", "Addresses on the ipvs interface"),
]
COMMENTS = {name: comment for name, _type, comment in IPSETS}
# sets that feed a rule when they have members: (set, table, from, to, match, protocol)
SET_RULES = [
    ("KUBE-LOOP-BACK", "nat", "KUBE-POSTROUTING", "MASQUERADE", "dst,dst,src", ""),
    ("KUBE-LOAD-BALANCER", "nat", "KUBE-SERVICES", "KUBE-LOAD-BALANCER", "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-LOCAL", "nat", "KUBE-LOAD-BALANCER", "RETURN", "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-FW", "filter", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL",
     "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN",
     "dst,dst,src", ""),
    ("KUBE-NODE-PORT-LOCAL-TCP", "nat", "KUBE-NODE-PORT", "RETURN", "dst", "tcp"),
    ("KUBE-NODE-PORT-TCP", "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "tcp"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "nat", "KUBE-NODE-PORT", "RETURN", "dst", "udp"),
    ("KUBE-NODE-PORT-UDP", "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "udp"),
]
# jumps from the built-in chains, prepended one by one as the proxier does: (table, chain, rule)
BASE_JUMPS = [
    ("nat", "OUTPUT", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "PREROUTING", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "POSTROUTING", '-m comment --comment "kubernetes postrouting rules" '
     '-j KUBE-POSTROUTING'),
    ("filter", "FORWARD", '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'),
    ("filter", "INPUT", '-m comment --comment "kubernetes health check rules" '
     '-j KUBE-NODE-PORT'),
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment '
     '"kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL'),
    ("filter", "INPUT", '-m comment --comment "kubernetes ipvs access filter" '
     '-j KUBE-IPVS-FILTER'),
]


@dataclass(frozen=True)
class VirtualServer:
    proto: str
    address: IPv4Address
    port: int
    persistent: int | None
    reals: tuple[tuple[IPv4Address, int], ...]


@dataclass
class IpvsState:
    addresses: list[IPv4Address] = field(default_factory=list)  # on kube-ipvs0
    servers: list[VirtualServer] = field(default_factory=list)
    sets: dict[str, set[str]] = field(default_factory=lambda: {n: set() for n, _t, _c in IPSETS})
    rules: NodeRules = field(default_factory=NodeRules)


def node_state(services: list[Service], slices: dict[str, list[EndpointSlice]], node: str,
               node_addresses: list[IPv4Address], cluster_cidr: IPv4Network) -> IpvsState:
    state = IpvsState()
    for service in sorted(services, key=lambda s: s.key):
        spec = service.spec
        if not service.proxied:
            continue
        lb_ips = service.vip_load_balancer_ips
        # an external IP the node already holds on another device is not bound again
        external = [a for a in spec.external_ips if IPv4Address(a) not in node_addresses]
        for address in [spec.cluster_ip, *external, *lb_ips]:
            if IPv4Address(address) not in state.addresses:
                state.addresses.append(IPv4Address(address))
        for port in spec.ports:
            if port.protocol == "SCTP":
                continue   # the lab's IPVS director has no SCTP state machine (README)
            _service_port(state, service, port, slices.get(service.key, []), node,
                          node_addresses, lb_ips)
    state.sets["KUBE-IPVS-IPS"] = {str(a) for a in state.addresses}
    _rules(state, cluster_cidr)
    return state


def _service_port(state: IpvsState, service: Service, port, slices, node: str,
                  node_addresses: list[IPv4Address], lb_ips: list[str]) -> None:
    spec, proto = service.spec, port.protocol.lower()
    found = categorize(service, backends_for(service, port, slices), node)
    backends, local = found.cluster, found.local
    persistent = spec.session_affinity_timeout() if spec.session_affinity == "ClientIP" else None

    def server(address, number, chosen) -> None:
        state.servers.append(VirtualServer(proto, IPv4Address(address), number, persistent,
                                           tuple((IPv4Address(b.ip), b.port) for b in chosen)))

    internal = local if spec.internal_traffic_policy == "Local" else backends
    server(spec.cluster_ip, port.port, internal)
    state.sets["KUBE-CLUSTER-IP"].add(f"{spec.cluster_ip},{proto}:{port.port}")
    for backend in backends:  # a pod that reaches itself through the Service is masqueraded
        state.sets["KUBE-LOOP-BACK"].add(f"{backend.ip},{proto}:{backend.port},{backend.ip}")
    external_local = service.external_policy_local
    external = local if external_local else backends   # the LB IPs' and NodePorts' too
    for address in spec.external_ips:
        server(address, port.port, external)
        name = "KUBE-EXTERNAL-IP-LOCAL" if external_local else "KUBE-EXTERNAL-IP"
        state.sets[name].add(f"{address},{proto}:{port.port}")
    if spec.type not in ("NodePort", "LoadBalancer"):
        return
    for address in lb_ips:
        server(address, port.port, external)
        member = f"{address},{proto}:{port.port}"
        state.sets["KUBE-LOAD-BALANCER"].add(member)
        if external_local:
            state.sets["KUBE-LOAD-BALANCER-LOCAL"].add(member)
        if spec.load_balancer_source_ranges:
            state.sets["KUBE-LOAD-BALANCER-FW"].add(member)
            for source in spec.load_balancer_source_ranges:
                state.sets["KUBE-LOAD-BALANCER-SOURCE-CIDR"].add(f"{member},{source}")
    if port.node_port and proto in ("tcp", "udp"):
        for address in node_addresses:
            server(address, port.node_port, external)
        kind = proto.upper()
        state.sets[f"KUBE-NODE-PORT-{kind}"].add(str(port.node_port))
        if external_local:
            state.sets[f"KUBE-NODE-PORT-LOCAL-{kind}"].add(str(port.node_port))


def _rules(state: IpvsState, cluster_cidr: IPv4Network) -> None:
    """writeIptablesRules: the chains, the set-driven rules, then the fixed ones."""
    rules, sets = state.rules, state.sets
    for chain in ("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER",
                  "KUBE-MARK-MASQ"):
        rules.add("nat", chain)
    for chain in ("KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL",
                  "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER"):
        rules.add("filter", chain)
    for name, table, source, target, match, proto in SET_RULES:
        if sets[name]:
            head = f"-p {proto} " if proto else ""
            rules.add(table, source, f'{head}-m comment --comment "{COMMENTS[name]}" '
                      f"-m set --match-set {name} {match} -j {target}")
    if sets["KUBE-CLUSTER-IP"]:  # off-cluster callers of a cluster IP are masqueraded
        rules.add("nat", "KUBE-SERVICES", f"! -s {cluster_cidr} -m comment --comment "
                  f'"{COMMENTS["KUBE-CLUSTER-IP"]}" -m set --match-set KUBE-CLUSTER-IP '
                  "dst,dst -j KUBE-MARK-MASQ")
    for name in ("KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"):
        if sets[name]:
            _external_ip_rules(rules, name)
    rules.add("nat", "KUBE-SERVICES", "-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT")
    rules.add("nat", "KUBE-LOAD-BALANCER", "-j KUBE-MARK-MASQ")
    if sets["KUBE-LOAD-BALANCER-FW"]:
        rules.add("filter", "KUBE-SOURCE-RANGES-FIREWALL", "-j DROP")
    for name in ("KUBE-CLUSTER-IP", "KUBE-LOAD-BALANCER"):  # accept what IPVS will take
        if sets[name]:
            rules.add("nat", "KUBE-SERVICES", f"-m set --match-set {name} dst,dst -j ACCEPT")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding rules" '
              f"-m mark --mark {MASQ_MARK} -j ACCEPT")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding '
              'conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')
    for name, match in (("KUBE-LOAD-BALANCER", "dst,dst"), ("KUBE-CLUSTER-IP", "dst,dst"),
                        ("KUBE-EXTERNAL-IP", "dst,dst"), ("KUBE-EXTERNAL-IP-LOCAL", "dst,dst"),
                        ("KUBE-HEALTH-CHECK-NODE-PORT", "dst")):
        rules.add("filter", "KUBE-IPVS-FILTER", f"-m set --match-set {name} {match} -j RETURN")
    # a VIP answers only on its Service ports, not on every port of the node
    rules.add("filter", "KUBE-IPVS-FILTER", "-m conntrack --ctstate NEW -m set --match-set "
              "KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable")
    rules.add("nat", "KUBE-POSTROUTING", f"-m mark ! --mark {MASQ_MARK} -j RETURN")
    rules.add("nat", "KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0")
    rules.add("nat", "KUBE-POSTROUTING", '-m comment --comment "kubernetes service traffic '
              'requiring SNAT" -j MASQUERADE --random-fully')
    rules.add("nat", "KUBE-MARK-MASQ", f"-j MARK --set-xmark {MASQ_MARK}")


def _external_ip_rules(rules: NodeRules, name: str) -> None:
    """externalIPRules: masquerade (Cluster policy only), then accept what comes from off
    the machine (not in through a bridge port, not from a local address) and what is for a
    local address; a pod's packet on a bridge is left to the rules after."""
    head = f'-m comment --comment "{COMMENTS[name]}" -m set --match-set {name} dst,dst'
    if name == "KUBE-EXTERNAL-IP":
        rules.add("nat", "KUBE-SERVICES", f"{head} -j KUBE-MARK-MASQ")
    rules.add("nat", "KUBE-SERVICES", f"{head} -m physdev ! --physdev-is-in "
              "-m addrtype ! --src-type LOCAL -j ACCEPT")
    rules.add("nat", "KUBE-SERVICES", f"{head} -m addrtype --dst-type LOCAL -j ACCEPT")
