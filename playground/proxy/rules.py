"""The rules kube-proxy (iptables mode) writes for one node, as iptables argument strings.

Chain names, comments, marks and the order of rules follow the real proxier; see
../shared/reference/kube-proxy.md. Each rule is written the way iptables-save prints it
back (kube-proxy's `--probability 0.5000000000` reads back as 0.50000000000), so the service
table can show a chain it has not parsed yet. This module only computes text: applying it is
the proxy controller's job.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cache
from ipaddress import IPv4Network

from playground.cluster.proxy_config import DEFAULT_OPTIONS, ProxyOptions
from playground.cluster.service import EndpointSlice, Service, ServicePort

MASQ_MARK = "0x4000/0x4000"
# the nfacct counters kube-proxy makes (pkg/proxy/metrics) and counts in its rules
INVALID_COUNTER = "ct_state_invalid_dropped_pkts"
LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts"
NFACCT_COUNTERS = (INVALID_COUNTER, LOCALHOST_NODEPORT_COUNTER)
LARGE_CLUSTER_ENDPOINTS = 1000   # above this many endpoints kube-proxy writes fewer comments


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_PAIRS = [a + b for a in _BASE32 for b in _BASE32]   # 10 bits -> two base32 characters


def chain_hash(*parts: str) -> str:
    """kube-proxy's chain suffix: base32 of the SHA-256, 16 characters (the first 80 bits),
    read off in 10-bit steps (base64.b32encode is pure Python: 150,000 endpoints notice)."""
    value = int.from_bytes(hashlib.sha256("".join(parts).encode()).digest()[:10], "big")
    pairs = _PAIRS
    return (pairs[value >> 70] + pairs[(value >> 60) & 1023] + pairs[(value >> 50) & 1023]
            + pairs[(value >> 40) & 1023] + pairs[(value >> 30) & 1023]
            + pairs[(value >> 20) & 1023] + pairs[(value >> 10) & 1023] + pairs[value & 1023])


@cache
def probability(index: int, count: int) -> str:
    """kube-proxy writes 1/(n-i) with ten decimals; the kernel keeps it in 31 bits and
    iptables-save prints that back with eleven."""
    kept = math.floor(float(f"{1 / (count - index):.10f}") * 0x80000000 + 0.5)
    return f"{kept / 0x80000000:.11f}"


@dataclass(slots=True)
class Backend:
    ip: str
    port: int
    node: str | None


@dataclass
class NodeRules:
    """Chains kube-proxy owns, per table, in the order it writes them."""

    nat: dict[str, list[str]] = field(default_factory=dict)
    filter: dict[str, list[str]] = field(default_factory=dict)

    def add(self, table: str, chain: str, rule: str | None = None) -> None:
        chains = getattr(self, table)
        chains.setdefault(chain, [])
        if rule is not None:
            chains[chain].append(rule)


# Jumps from the built-in chains into kube-proxy's chains: (table, chain, rule), in the order
# a node shows them. kubelet made the KUBE-FIREWALL jumps before kube-proxy started, and
# kube-proxy prepends its own (EnsureRule Prepend), so kubelet's come last.
BASE_JUMPS = [
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "INPUT", '-m comment --comment "kubernetes health check service ports" '
     '-j KUBE-NODEPORTS'),
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'),
    ("filter", "INPUT", "-j KUBE-FIREWALL"),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "FORWARD", '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes service portals" -j KUBE-SERVICES'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'),
    ("filter", "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes service portals" -j KUBE-SERVICES'),
    ("filter", "OUTPUT", "-j KUBE-FIREWALL"),
    ("nat", "PREROUTING", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "OUTPUT", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "POSTROUTING", '-m comment --comment "kubernetes postrouting rules" '
     '-j KUBE-POSTROUTING'),
]


def backends_for(service: Service, port: ServicePort,
                 slices: list[EndpointSlice]) -> list[Backend]:
    found = []
    for slice_ in slices:
        numbers = [p.port for p in slice_.ports
                   if p.name == port.name and p.protocol == port.protocol]
        if not numbers:
            continue
        for endpoint in slice_.endpoints:
            if endpoint.ready:
                found.append(Backend(endpoint.address, numbers[0], endpoint.node_name))
    return sorted(found, key=lambda b: (tuple(map(int, b.ip.split("."))), b.port))


def base_rules(cluster_cidr: IPv4Network, options: ProxyOptions = DEFAULT_OPTIONS) -> NodeRules:
    """The chains kube-proxy writes on every sync whatever the Services: its top-level
    chains, the masquerade chains and KUBE-FORWARD, and kubelet's KUBE-FIREWALL."""
    rules = NodeRules()
    for chain in ("KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL", "KUBE-FORWARD", "KUBE-NODEPORTS",
                  "KUBE-PROXY-FIREWALL", "KUBE-SERVICES"):
        rules.add("filter", chain)
    for chain in ("KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-SERVICES"):
        rules.add("nat", chain)
    # route_localnet opens 127/8 to the network; this rule (kubelet's too) closes it again
    rules.add("filter", "KUBE-FIREWALL", '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment '
              '"block incoming localnet connections" -m conntrack ! --ctstate '
              "RELATED,ESTABLISHED,DNAT -j DROP")
    mark, value = options.mark, options.mark_value
    rules.add("filter", "KUBE-FORWARD", "-m conntrack --ctstate INVALID -m nfacct "
              f"--nfacct-name  {INVALID_COUNTER} -j DROP")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding rules" '
              f"-m mark --mark {mark} -j ACCEPT")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding '
              'conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')
    rules.add("nat", "KUBE-MARK-MASQ", f"-j MARK --set-xmark {mark}")
    rules.add("nat", "KUBE-POSTROUTING", f"-m mark ! --mark {mark} -j RETURN")
    rules.add("nat", "KUBE-POSTROUTING", f"-j MARK --set-xmark {value}/0x0")
    # iptables 1.6.2 and later have --random-fully, so kube-proxy always adds it on a node
    rules.add("nat", "KUBE-POSTROUTING", '-m comment --comment "kubernetes service traffic '
              'requiring SNAT" -j MASQUERADE --random-fully')
    return rules


def nodeports_jump(options: ProxyOptions = DEFAULT_OPTIONS) -> str:
    """KUBE-SERVICES' last rule: node ports on the node's own addresses (and on 127/8 only
    when localhost node ports are on)."""
    loopback = "" if options.localhost_node_ports else "! -d 127.0.0.0/8 "
    return (f'{loopback}-m comment --comment "kubernetes service nodeports; NOTE: this must be '
            'the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')


def node_rules(services: list[Service], slices: dict[str, list[EndpointSlice]], node: str,
               cluster_cidr: IPv4Network, options: ProxyOptions = DEFAULT_OPTIONS,
               node_ip: str | None = None) -> NodeRules:
    rules = base_rules(cluster_cidr, options)
    found = {s.key: backends_for(s, p, slices.get(s.key, []))
             for s in services for p in s.spec.ports}
    large = sum(map(len, found.values())) > LARGE_CLUSTER_ENDPOINTS
    for service in sorted(services, key=lambda s: s.key):
        for port in service.spec.ports:
            service_port_rules(rules, service, port,
                               backends_for(service, port, slices.get(service.key, [])),
                               node, cluster_cidr, options, node_ip, large)
    rules.add("nat", "KUBE-SERVICES", nodeports_jump(options))
    return rules


class LocalDetector:
    """proxyutil.LocalTrafficDetector: how a rule tells traffic from this node's pods,
    as (source part, interface part) of an iptables-save line."""

    def __init__(self, options: ProxyOptions, cluster_cidr: IPv4Network) -> None:
        mode = options.detect_local_mode
        if mode == "BridgeInterface":
            self.kind, self.value = "-i", options.bridge_interface
        elif mode == "InterfaceNamePrefix":
            self.kind, self.value = "-i", options.interface_name_prefix + "+"
        else:
            self.kind, self.value = "-s", options.cluster_cidr or str(cluster_cidr)

    def parts(self, negate: bool) -> tuple[str, str]:
        text = f"{'! ' if negate else ''}{self.kind} {self.value} "
        return (text, "") if self.kind == "-s" else ("", text)


def service_port_rules(rules: NodeRules, service: Service, port: ServicePort,
                       backends: list[Backend], node: str, cluster_cidr: IPv4Network,
                       options: ProxyOptions = DEFAULT_OPTIONS, node_ip: str | None = None,
                       large: bool = False) -> None:
    name = service.port_name(port)
    proto = port.protocol.lower()
    spec = service.spec
    digest = chain_hash(name, proto)
    svc, svl, ext = f"KUBE-SVC-{digest}", f"KUBE-SVL-{digest}", f"KUBE-EXT-{digest}"
    match = f"-p {proto} -m comment --comment \"{name} %s\" -m {proto} --dport %d"
    cluster_ip = spec.cluster_ip
    local = [b for b in backends if b.node == node]
    external = spec.type in ("NodePort", "LoadBalancer")
    lb_ips = service.status.load_balancer_ips if spec.type == "LoadBalancer" else []
    detector = LocalDetector(options, cluster_cidr)

    if spec.health_check_node_port:   # accepted whether or not this node has endpoints
        rules.add("filter", "KUBE-NODEPORTS",
                  f"-p tcp -m comment --comment \"{name} health check node port\" -m tcp "
                  f"--dport {spec.health_check_node_port} -j ACCEPT")
    if not backends:
        reject = "-j REJECT --reject-with icmp-port-unreachable"
        comment = f"-m comment --comment \"{name} has no endpoints\""
        rules.add("filter", "KUBE-SERVICES",
                  f"-d {cluster_ip}/32 -p {proto} {comment} -m {proto} --dport {port.port} "
                  + reject)
        for ip in lb_ips:
            rules.add("filter", "KUBE-EXTERNAL-SERVICES",
                      f"-d {ip}/32 -p {proto} {comment} -m {proto} --dport {port.port} "
                      + reject)
        if external and port.node_port:
            rules.add("filter", "KUBE-EXTERNAL-SERVICES",
                      f"-p {proto} {comment} -m addrtype --dst-type LOCAL -m {proto} "
                      f"--dport {port.node_port} " + reject)
        return

    internal_chain = svl if spec.internal_traffic_policy == "Local" else svc
    rules.add("nat", "KUBE-SERVICES",
              f"-d {cluster_ip}/32 " + match % ("cluster IP", port.port) + f" -j {internal_chain}")
    # the Service chain: masquerade callers from outside the cluster, then pick an endpoint
    source, iface = ("", "") if options.masquerade_all else detector.parts(negate=True)
    rules.add("nat", svc, f"{source}-d {cluster_ip}/32 {iface}"
              + match % ("cluster IP", port.port) + " -j KUBE-MARK-MASQ")
    sticky = spec.session_affinity_timeout() if spec.session_affinity == "ClientIP" else 0
    _choose(rules, svc, name, proto, backends, sticky, large)

    local_needed = spec.internal_traffic_policy == "Local" or (
        external and spec.external_traffic_policy == "Local")
    if local_needed:
        rules.add("nat", svl)
        _choose(rules, svl, name, proto, local, sticky, large)
    if external:
        rules.add("nat", ext)
        ranges = spec.load_balancer_source_ranges
        firewall = f"KUBE-FW-{digest}"
        for ip in lb_ips:
            rules.add("nat", "KUBE-SERVICES", f"-d {ip}/32 " + match % ("loadbalancer IP",
                      port.port) + f" -j {firewall if ranges else ext}")
            if ranges:
                # traffic from allowed sources is DNATed on; the rest keeps the LB IP as its
                # destination and meets the filter DROP below
                rules.add("filter", "KUBE-PROXY-FIREWALL",
                          f"-d {ip}/32 -p {proto} -m comment --comment \"{name} traffic not "
                          f"accepted by {firewall}\" -m {proto} --dport {port.port} -j DROP")
        if ranges and lb_ips:
            _firewall_chain(rules, firewall, ext, name, ranges, lb_ips, node_ip)
        if port.node_port:
            if options.localhost_node_ports:
                rules.add("nat", "KUBE-NODEPORTS",
                          f"-d 127.0.0.0/8 -p {proto} -m comment --comment \"{name}\" "
                          f"-m {proto} --dport {port.node_port} -m nfacct --nfacct-name  "
                          f"{LOCALHOST_NODEPORT_COUNTER} -j {ext}")
            rules.add("nat", "KUBE-NODEPORTS",
                      f"-p {proto} -m comment --comment \"{name}\" -m {proto} "
                      f"--dport {port.node_port} -j {ext}")
        if spec.external_traffic_policy == "Cluster":
            rules.add("nat", ext, f"-m comment --comment \"masquerade traffic for {name} "
                      "external destinations\" -j KUBE-MARK-MASQ")
            rules.add("nat", ext, f"-j {svc}")
        else:
            source, iface = detector.parts(negate=False)
            rules.add("nat", ext, f"{source}{iface}-m comment --comment \"pod traffic for "
                      f"{name} external destinations\" -j {svc}")
            rules.add("nat", ext, f"-m comment --comment \"masquerade LOCAL traffic for {name} "
                      "external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
            rules.add("nat", ext, f"-m comment --comment \"route LOCAL traffic for {name} "
                      f"external destinations\" -m addrtype --src-type LOCAL -j {svc}")
            if local:
                rules.add("nat", ext, f"-j {svl}")
            else:
                drop = f"-m comment --comment \"{name} has no local endpoints\""
                for ip in lb_ips:
                    rules.add("filter", "KUBE-EXTERNAL-SERVICES",
                              f"-d {ip}/32 -p {proto} {drop} -m {proto} --dport {port.port} "
                              "-j DROP")
                if port.node_port:
                    rules.add("filter", "KUBE-EXTERNAL-SERVICES",
                              f"-p {proto} {drop} -m addrtype --dst-type LOCAL -m {proto} "
                              f"--dport {port.node_port} -j DROP")


def source_ranges(ranges: list[str]) -> list[IPv4Network]:
    """loadBalancerSourceRanges as kube-proxy reads them (spaces trimmed, host bits kept
    out); the API server has already refused what is not a CIDR."""
    return [IPv4Network(text.strip(), strict=False) for text in ranges]


def allows_node(ranges: list[str], node_ip: str | None) -> bool:
    """Whether a source range holds the node's IP: then the node's own connections to the
    LB IP (which come from the LB IP) are let through too."""
    if node_ip is None:
        return False
    address = IPv4Network(node_ip)
    return any(address.subnet_of(cidr) for cidr in source_ranges(ranges))


def _firewall_chain(rules: NodeRules, firewall: str, ext: str, name: str, ranges: list[str],
                    lb_ips: list[str], node_ip: str | None) -> None:
    comment = f"-m comment --comment \"{name} loadbalancer IP\""
    rules.add("nat", firewall)
    for cidr in source_ranges(ranges):
        rules.add("nat", firewall, f"-s {cidr} {comment} -j {ext}")
    if allows_node(ranges, node_ip):
        for ip in lb_ips:
            rules.add("nat", firewall, f"-s {ip}/32 {comment} -j {ext}")
    # what gets this far keeps the LB IP and meets KUBE-PROXY-FIREWALL's DROP
    rules.add("nat", firewall, f"-m comment --comment \"other traffic to {name} will be "
              "dropped by KUBE-PROXY-FIREWALL\"")




def _choose(rules: NodeRules, chain: str, name: str, proto: str,
            backends: list[Backend], sticky: int, large: bool = False) -> None:
    """The endpoint choice (and each endpoint's chain); `sticky` is the ClientIP affinity
    timeout in seconds, 0 without affinity. Above 1,000 endpoints kube-proxy leaves the
    comments of these rules out (its large cluster mode)."""
    if sticky:  # a client seen recently goes back to the endpoint it had
        for backend in backends:
            target = f"{backend.ip}:{backend.port}"
            sep = f"KUBE-SEP-{chain_hash(name, proto, target)}"
            note = "" if large else f"-m comment --comment \"{name} -> {target}\" "
            rules.add("nat", chain, f"{note}-m recent "
                      f"--rcheck --seconds {sticky} --reap --name {sep} "
                      f"--mask 255.255.255.255 --rsource -j {sep}")
    nat = rules.nat   # 150,000 endpoints at the envelope: the lists are filled in place
    lines, count = nat.setdefault(chain, []), len(backends)
    for index, backend in enumerate(backends):
        target = f"{backend.ip}:{backend.port}"
        sep = f"KUBE-SEP-{chain_hash(name, proto, target)}"
        statistic = ""
        if index < count - 1:
            statistic = f" -m statistic --mode random --probability {probability(index, count)}"
        note = "" if large else f"-m comment --comment \"{name} -> {target}\""
        lines.append(f"{note}{statistic} -j {sep}".lstrip())
        if sep not in nat:
            remember = (f"-m recent --set --name {sep} --mask 255.255.255.255 --rsource "
                        if sticky else "")
            own = "" if large else f"-m comment --comment \"{name}\" "
            nat[sep] = [f"-s {backend.ip}/32 {own}-j KUBE-MARK-MASQ",
                        f"-p {proto} {own}{remember}"
                        f"-m {proto} -j DNAT --to-destination {target}"]
