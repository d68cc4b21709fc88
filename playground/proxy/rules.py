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
    lb_ips = service.status.load_balancer_ips if spec.type == "LoadBalancer" else []
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
        if has_any:
            rules.add("nat", "KUBE-NODEPORTS", f"-p {proto} -m comment --comment \"{name}\" "
                      f"-m {proto} --dport {node_port} -j {ext}")
        if not has_external:
            filtered("KUBE-EXTERNAL-SERVICES", "", external_filter,
                     f"-m addrtype --dst-type LOCAL -m {proto} --dport {node_port} ")
    if not has_any:
        return

    if has_internal:   # callers from outside the cluster are masqueraded
        rules.add("nat", internal_chain, f"! -s {cluster_cidr} {cluster_ip} -j KUBE-MARK-MASQ")
    if uses_ext:
        rules.add("nat", ext)
        if not external_local:
            rules.add("nat", ext, f"-m comment --comment \"masquerade traffic for {name} "
                      "external destinations\" -j KUBE-MARK-MASQ")
        else:
            rules.add("nat", ext, f"-s {cluster_cidr} -m comment --comment \"pod traffic for "
                      f"{name} external destinations\" -j {svc}")
            rules.add("nat", ext, f"-m comment --comment \"masquerade LOCAL traffic for {name} "
                      "external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
            rules.add("nat", ext, f"-m comment --comment \"route LOCAL traffic for {name} "
                      f"external destinations\" -m addrtype --src-type LOCAL -j {svc}")
        if has_external:
            rules.add("nat", ext, f"-j {svl if external_local else svc}")
    if uses_fw:
        for source in ranges:
            rules.add("nat", firewall, f"-s {source} -m comment --comment \"{name} "
                      f"loadbalancer IP\" -j {ext}")
    sticky = spec.session_affinity == "ClientIP"
    if found.cluster and uses_cluster_endpoints(service):
        _choose(rules, svc, name, proto, found.cluster, sticky)
    if found.local and uses_local_endpoints(service):
        _choose(rules, svl, name, proto, found.local, sticky)


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
