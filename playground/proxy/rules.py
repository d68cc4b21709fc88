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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from ipaddress import IPv4Address, IPv4Network

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
    ready: bool = True
    serving: bool = True
    terminating: bool = False

    @property
    def target(self) -> str:
        return f"{self.ip}:{self.port}"


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
    """Every endpoint of the Service port with its conditions, in kube-proxy's order (by the
    `IP:port` string, so 10.244.2.10:80 comes before 10.244.2.9:80)."""
    found: dict[str, Backend] = {}
    for slice_ in slices:
        numbers = [p.port for p in slice_.ports
                   if p.name == port.name and p.protocol == port.protocol]
        if not numbers:
            continue
        for endpoint in slice_.endpoints:
            backend = Backend(endpoint.address, numbers[0], endpoint.node_name, endpoint.ready,
                              endpoint.serving, endpoint.terminating)
            found.setdefault(backend.target, backend)   # the first slice that lists it
    return [found[target] for target in sorted(found)]


@dataclass
class Categorized:
    """proxy.CategorizeEndpoints for one node: the endpoints Cluster and Local policy use
    (ready ones, else the serving terminating ones), those this node's rules reach, and
    whether the Service has a usable endpoint anywhere."""

    cluster: list[Backend]
    local: list[Backend]
    reachable: list[Backend]
    any: bool


def uses_cluster_endpoints(service: Service) -> bool:
    return service.spec.internal_traffic_policy != "Local" or service.externally_accessible


def uses_local_endpoints(service: Service) -> bool:
    return service.spec.internal_traffic_policy == "Local" or service.external_policy_local


def categorize(service: Service, backends: list[Backend], node: str) -> Categorized:
    """Without topology hints (the lab's EndpointSlice controller writes none)."""
    cluster: list[Backend] = []
    local: list[Backend] = []
    has_any = False
    if uses_cluster_endpoints(service):
        cluster = [b for b in backends if b.ready] or \
            [b for b in backends if b.serving and b.terminating]
        has_any = bool(cluster)
    if not uses_local_endpoints(service):
        return Categorized(cluster, local, cluster, has_any)
    usable = [b for b in backends if b.ready or (b.serving and b.terminating)]
    has_any = has_any or bool(usable)
    mine = [b for b in usable if b.node == node]
    local = [b for b in mine if b.ready] or [b for b in mine if b.serving and b.terminating]
    if not uses_cluster_endpoints(service):
        return Categorized(cluster, local, local, has_any)
    merged = {b.target: b for b in cluster + local}
    return Categorized(cluster, local, [merged[t] for t in sorted(merged)], has_any)


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


def nodeports_jumps(options: ProxyOptions = DEFAULT_OPTIONS, node_ip: str | None = None,
                    addresses: Iterable[IPv4Address] = ()) -> list[str]:
    """KUBE-SERVICES' last rules: node ports on every local address (127/8 only when
    localhost node ports are on), or, with nodePortAddresses, one jump per address of the
    node inside them (kube-proxy's order is a map's; here the addresses' order)."""
    comment = ('-m comment --comment "kubernetes service nodeports; NOTE: this must be the '
               'last rule in this chain" ')
    cidrs = options.node_port_cidrs(node_ip)
    if cidrs is None:
        loopback = "" if options.localhost_node_ports else "! -d 127.0.0.0/8 "
        return [f"{loopback}{comment}-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"]
    found = sorted({ip for ip in addresses if any(ip in cidr for cidr in cidrs)})
    return [f"-d {ip}/32 {comment}-j KUBE-NODEPORTS" for ip in found
            if options.localhost_node_ports_on or not ip.is_loopback]


def node_rules(services: list[Service], slices: dict[str, list[EndpointSlice]], node: str,
               cluster_cidr: IPv4Network, options: ProxyOptions = DEFAULT_OPTIONS,
               node_ip: str | None = None, addresses: Iterable[IPv4Address] = (),
               node_cidr: str | None = None) -> NodeRules:
    rules = base_rules(cluster_cidr, options)
    found = {s.key: backends_for(s, p, slices.get(s.key, []))
             for s in services for p in s.spec.ports}
    large = sum(map(len, found.values())) > LARGE_CLUSTER_ENDPOINTS
    for service in sorted(services, key=lambda s: s.key):
        for port in service.spec.ports:
            service_port_rules(rules, service, port,
                               backends_for(service, port, slices.get(service.key, [])),
                               node, cluster_cidr, options, node_ip, large, node_cidr)
    for jump in nodeports_jumps(options, node_ip, addresses):
        rules.add("nat", "KUBE-SERVICES", jump)
    return rules


class LocalDetector:
    """proxyutil.LocalTrafficDetector: how a rule tells traffic from this node's pods,
    as (source part, interface part) of an iptables-save line."""

    def __init__(self, options: ProxyOptions, cluster_cidr: IPv4Network,
                 node_cidr: str | None = None) -> None:
        mode = options.detect_local_mode
        if mode == "NodeCIDR" and node_cidr:   # NewDetectLocalByCIDR(the node's podCIDR)
            self.kind, self.value = "-s", node_cidr
        elif mode == "BridgeInterface":
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
                       large: bool = False, node_cidr: str | None = None) -> None:
    """One Service port's rules on `node`, in the order syncProxyRules writes them."""
    if not service.proxied:
        return   # headless and ExternalName: kube-proxy skips them (DNS alone knows them)
    name = service.port_name(port)
    proto = port.protocol.lower()
    spec = service.spec
    digest = chain_hash(name, proto)
    svc, svl, ext = f"KUBE-SVC-{digest}", f"KUBE-SVL-{digest}", f"KUBE-EXT-{digest}"
    firewall = f"KUBE-FW-{digest}"
    match = f"-p {proto} -m comment --comment \"{name} %s\" -m {proto} --dport %d"
    lb_ips = service.vip_load_balancer_ips
    node_port = port.node_port if spec.type in ("NodePort", "LoadBalancer") else None
    found = categorize(service, backends, node)
    has_any = found.any
    internal_local = spec.internal_traffic_policy == "Local"
    external_local = service.external_policy_local
    internal_chain = svl if internal_local else svc
    has_internal = has_any and (bool(found.local) or not internal_local)
    has_external = has_any and (bool(found.local) or not external_local)
    uses_ext = has_any and service.externally_accessible
    ranges = spec.load_balancer_source_ranges
    uses_fw = has_any and bool(lb_ips) and bool(ranges)
    detector = LocalDetector(options, cluster_cidr, node_cidr)
    if not has_any:
        internal_filter = external_filter = ("REJECT", f"{name} has no endpoints")
    else:
        internal_filter = external_filter = ("DROP", f"{name} has no local endpoints")

    def filtered(chain: str, head: str, target: tuple[str, str], tail: str) -> None:
        verdict, comment = target
        reject = " --reject-with icmp-port-unreachable" if verdict == "REJECT" else ""
        rules.add("filter", chain, f"{head}-p {proto} -m comment --comment \"{comment}\" "
                  f"{tail}-j {verdict}{reject}")

    cluster_ip = f"-d {spec.cluster_ip}/32 " + match % ("cluster IP", port.port)
    if has_internal:
        rules.add("nat", "KUBE-SERVICES", f"{cluster_ip} -j {internal_chain}")
    else:
        filtered("KUBE-SERVICES", f"-d {spec.cluster_ip}/32 ", internal_filter,
                 f"-m {proto} --dport {port.port} ")
    for ip in spec.external_ips:
        if has_any:
            rules.add("nat", "KUBE-SERVICES", f"-d {ip}/32 " + match % ("external IP", port.port)
                      + f" -j {ext}")
        if not has_external:
            filtered("KUBE-EXTERNAL-SERVICES", f"-d {ip}/32 ", external_filter,
                     f"-m {proto} --dport {port.port} ")
    for ip in lb_ips:
        if has_any:
            rules.add("nat", "KUBE-SERVICES", f"-d {ip}/32 " + match % (
                "loadbalancer IP", port.port) + f" -j {firewall if uses_fw else ext}")
        if uses_fw:
            # traffic from allowed sources is DNATed on; the rest keeps the LB IP as its
            # destination and meets this DROP
            rules.add("filter", "KUBE-PROXY-FIREWALL",
                      f"-d {ip}/32 -p {proto} -m comment --comment \"{name} traffic not "
                      f"accepted by {firewall}\" -m {proto} --dport {port.port} -j DROP")
    if not has_external:
        for ip in lb_ips:
            filtered("KUBE-EXTERNAL-SERVICES", f"-d {ip}/32 ", external_filter,
                     f"-m {proto} --dport {port.port} ")
    if node_port:
        if has_any and options.localhost_node_ports_on:
            rules.add("nat", "KUBE-NODEPORTS",
                      f"-d 127.0.0.0/8 -p {proto} -m comment --comment \"{name}\" "
                      f"-m {proto} --dport {node_port} -m nfacct --nfacct-name  "
                      f"{LOCALHOST_NODEPORT_COUNTER} -j {ext}")
        if has_any:
            rules.add("nat", "KUBE-NODEPORTS", f"-p {proto} -m comment --comment \"{name}\" "
                      f"-m {proto} --dport {node_port} -j {ext}")
        if not has_external:
            filtered("KUBE-EXTERNAL-SERVICES", "", external_filter,
                     f"-m addrtype --dst-type LOCAL -m {proto} --dport {node_port} ")
    if spec.health_check_node_port:   # accepted whether or not this node has endpoints
        rules.add("filter", "KUBE-NODEPORTS",
                  f"-p tcp -m comment --comment \"{name} health check node port\" -m tcp "
                  f"--dport {spec.health_check_node_port} -j ACCEPT")
    if not has_any:
        return

    if has_internal:   # callers from outside the cluster are masqueraded
        source, iface = ("", "") if options.masquerade_all else detector.parts(negate=True)
        rules.add("nat", internal_chain, f"{source}-d {spec.cluster_ip}/32 {iface}"
                  + match % ("cluster IP", port.port) + " -j KUBE-MARK-MASQ")
    if uses_ext:
        rules.add("nat", ext)
        if not external_local:
            rules.add("nat", ext, f"-m comment --comment \"masquerade traffic for {name} "
                      "external destinations\" -j KUBE-MARK-MASQ")
        else:
            source, iface = detector.parts(negate=False)
            rules.add("nat", ext, f"{source}{iface}-m comment --comment \"pod traffic for "
                      f"{name} external destinations\" -j {svc}")
            rules.add("nat", ext, f"-m comment --comment \"masquerade LOCAL traffic for {name} "
                      "external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
            rules.add("nat", ext, f"-m comment --comment \"route LOCAL traffic for {name} "
                      f"external destinations\" -m addrtype --src-type LOCAL -j {svc}")
        if has_external:
            rules.add("nat", ext, f"-j {svl if external_local else svc}")
    if uses_fw:
        _firewall_chain(rules, firewall, ext, name, ranges, lb_ips, node_ip)
    sticky = spec.session_affinity_timeout() if spec.session_affinity == "ClientIP" else 0
    if found.cluster and uses_cluster_endpoints(service):
        _choose(rules, svc, name, proto, found.cluster, sticky, large)
    if found.local and uses_local_endpoints(service):
        _choose(rules, svl, name, proto, found.local, sticky, large)


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
