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
from socket import inet_aton

from playground.cluster.service import EndpointSlice, Service, ServicePort

MASQ_MARK = "0x4000/0x4000"


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


# Jumps from the built-in chains into kube-proxy's chains: (table, chain, rule).
BASE_JUMPS = [
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "INPUT", '-m comment --comment "kubernetes health check service ports" '
     '-j KUBE-NODEPORTS'),
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment '
     '"kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'),
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
    # by address as a number: inet_aton's four bytes (endpoint addresses are dotted quads)
    return sorted(found, key=lambda b: (inet_aton(b.ip), b.port))


def node_rules(services: list[Service], slices: dict[str, list[EndpointSlice]], node: str,
               cluster_cidr: IPv4Network) -> NodeRules:
    rules = NodeRules()
    for chain in ("KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
                  "KUBE-PROXY-FIREWALL", "KUBE-SERVICES"):
        rules.add("filter", chain)
    for chain in ("KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-SERVICES"):
        rules.add("nat", chain)
    rules.add("filter", "KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding rules" '
              f"-m mark --mark {MASQ_MARK} -j ACCEPT")
    rules.add("filter", "KUBE-FORWARD", '-m comment --comment "kubernetes forwarding '
              'conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')
    rules.add("nat", "KUBE-MARK-MASQ", f"-j MARK --set-xmark {MASQ_MARK}")
    rules.add("nat", "KUBE-POSTROUTING", f"-m mark ! --mark {MASQ_MARK} -j RETURN")
    rules.add("nat", "KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0")
    rules.add("nat", "KUBE-POSTROUTING", '-m comment --comment "kubernetes service traffic '
              'requiring SNAT" -j MASQUERADE --random-fully')
    for service in sorted(services, key=lambda s: s.key):
        for port in service.spec.ports:
            service_port_rules(rules, service, port,
                          backends_for(service, port, slices.get(service.key, [])),
                          node, cluster_cidr)
    rules.add("nat", "KUBE-SERVICES", '-m comment --comment "kubernetes service nodeports; '
              'NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL '
              "-j KUBE-NODEPORTS")
    return rules


def service_port_rules(rules: NodeRules, service: Service, port: ServicePort,
                  backends: list[Backend], node: str, cluster_cidr: IPv4Network) -> None:
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
    rules.add("nat", svc, f"! -s {cluster_cidr} -d {cluster_ip}/32 "
              + match % ("cluster IP", port.port) + " -j KUBE-MARK-MASQ")
    sticky = spec.session_affinity == "ClientIP"
    _choose(rules, svc, name, proto, backends, sticky)

    local_needed = spec.internal_traffic_policy == "Local" or (
        external and spec.external_traffic_policy == "Local")
    if local_needed:
        rules.add("nat", svl)
        _choose(rules, svl, name, proto, local, sticky)
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
            for source in ranges:
                rules.add("nat", firewall, f"-s {source} -m comment --comment \"{name} "
                          f"loadbalancer IP\" -j {ext}")
        if port.node_port:
            rules.add("nat", "KUBE-NODEPORTS",
                      f"-p {proto} -m comment --comment \"{name}\" -m {proto} "
                      f"--dport {port.node_port} -j {ext}")
        if spec.external_traffic_policy == "Cluster":
            rules.add("nat", ext, f"-m comment --comment \"masquerade traffic for {name} "
                      "external destinations\" -j KUBE-MARK-MASQ")
            rules.add("nat", ext, f"-j {svc}")
        else:
            rules.add("nat", ext, f"-s {cluster_cidr} -m comment --comment \"pod traffic for "
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


STICKY_SECONDS = 10800  # sessionAffinityConfig.clientIP.timeoutSeconds default


def _choose(rules: NodeRules, chain: str, name: str, proto: str,
            backends: list[Backend], sticky: bool) -> None:
    if sticky:  # a client seen recently goes back to the endpoint it had
        for backend in backends:
            target = f"{backend.ip}:{backend.port}"
            sep = f"KUBE-SEP-{chain_hash(name, proto, target)}"
            rules.add("nat", chain, f"-m comment --comment \"{name} -> {target}\" -m recent "
                      f"--rcheck --seconds {STICKY_SECONDS} --reap --name {sep} "
                      f"--mask 255.255.255.255 --rsource -j {sep}")
    nat = rules.nat   # 150,000 endpoints at the envelope: the lists are filled in place
    lines, count = nat.setdefault(chain, []), len(backends)
    for index, backend in enumerate(backends):
        target = f"{backend.ip}:{backend.port}"
        sep = f"KUBE-SEP-{chain_hash(name, proto, target)}"
        statistic = ""
        if index < count - 1:
            statistic = f" -m statistic --mode random --probability {probability(index, count)}"
        lines.append(f"-m comment --comment \"{name} -> {target}\"{statistic} -j {sep}")
        if sep not in nat:
            remember = (f"-m recent --set --name {sep} --mask 255.255.255.255 --rsource "
                        if sticky else "")
            nat[sep] = [f"-s {backend.ip}/32 -m comment --comment \"{name}\" -j KUBE-MARK-MASQ",
                        f"-p {proto} -m comment --comment \"{name}\" {remember}"
                        f"-m {proto} -j DNAT --to-destination {target}"]
