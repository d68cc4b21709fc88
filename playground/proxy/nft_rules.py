"""The objects kube-proxy (nftables mode) writes in `table ip kube-proxy`, as nft input text.

Followed: kubernetes/kubernetes pkg/proxy/nftables, the expected transactions of
proxier_test.go at commit 81810de635aa13aa0a32992f6def3aa9d6025ebc (`baseRules`,
TestOverallNFTablesRules), with syncProxyRules' logic as proxier.go has it. Each line is
one `add` of knftables' transaction language, as knftables.Fake dumps the table back, so
what is computed here is what the nf_tables model is given and what the golden tests read.
This module only computes text: applying it is the proxy agent's job.
"""

from __future__ import annotations

import hashlib
from base64 import b32encode
from dataclasses import dataclass, field
from functools import cache
from ipaddress import IPv4Address, IPv4Network

from playground.cluster.service import EndpointSlice, Service, ServicePort
from playground.proxy.nft_options import NftOptions
from playground.proxy.rules import Backend, backends_for, categorize

TABLE = "ip kube-proxy"
DEFAULTS = NftOptions()
NO_LOCALHOST = "ip daddr != 127.0.0.0/8"
MARK_MASQ = "jump mark-for-masquerade"
NAME_BASE_MAX = 256 - 16   # knftables.NameLengthMax less the longest chain prefix


@cache
def hashed(name: str) -> str:
    """hashAndTruncate: the first 8 base32 characters of the name's SHA-256 (40 bits, so
    5 bytes), a dash, then the name itself, cut to fit an nft chain name."""
    digest = b32encode(hashlib.sha256(name.encode()).digest()[:5]).decode()
    name = f"{digest}-{name}"
    return name if len(name) <= NAME_BASE_MAX else name[:NAME_BASE_MAX - 3] + "..."


def port_base(service: Service, port: ServicePort) -> str:
    """`HASH-ns/svc/proto/portName` (the port's name empty when it has none)."""
    meta = service.metadata
    return hashed(f"{meta.namespace}/{meta.name}/{port.protocol.lower()}/{port.name or ''}")


def endpoint_base(service: Service, port: ServicePort, backend: Backend) -> str:
    meta = service.metadata
    return hashed(f"{meta.namespace}/{meta.name}/{port.protocol.lower()}/{port.name or ''}"
                  f"__{backend.ip}/{backend.port}")


@dataclass
class Block:
    """What one Service adds to the table: its chains (rules in order), its affinity sets,
    and its elements of the shared sets and maps, (container, key) -> (value, comment)."""

    chains: dict[str, list[str]] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    elements: dict[tuple[str, str], tuple[str | None, str | None]] = \
        field(default_factory=dict)
    lines: list[str] | None = field(default=None, compare=False, repr=False)   # rendered

    def chain(self, name: str) -> list[str]:
        return self.chains.setdefault(name, [])

    def element(self, container: str, key: str, value: str | None = None,
                comment: str | None = None) -> None:
        self.elements[(container, key)] = (value, comment)


def element_line(container: str, key: str, value: str | None, comment: str | None) -> str:
    note = f' comment "{comment}"' if comment is not None else ""
    verdict = f" : {value}" if value is not None else ""
    return f"add element {TABLE} {container} {{ {key}{note}{verdict} }}"


def block_lines(block: Block) -> list[str]:
    """A Service's objects as `add` lines: sets and chains first, then the rules, then the
    elements (a map element may only name a chain that already exists). A Block is not
    changed once made, so every node showing it shares the one rendering."""
    if block.lines is not None:
        return block.lines
    lines = [f"add set {TABLE} {name} {spec}" for name, spec in block.sets.items()]
    lines += [f"add chain {TABLE} {name}" for name in block.chains]
    for name, rules in block.chains.items():
        lines += [f"add rule {TABLE} {name} {rule}" for rule in rules]
    lines += [element_line(c, k, v, n) for (c, k), (v, n) in block.elements.items()]
    block.lines = lines
    return lines


# The table every node starts with: (kind, name, declaration) and (chain, rule), in the
# order of baseRules; the service CIDR and the node's NodePort address are filled in.
BASE_SETS = [
    ("set", "cluster-ips", '{ type ipv4_addr ; comment "Active ClusterIPs" ; }'),
    ("set", "nodeport-ips", '{ type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }'),
    ("map", "firewall-ips", "{ type ipv4_addr . inet_proto . inet_service : verdict ; "
     'comment "destinations that are subject to LoadBalancerSourceRanges" ; }'),
    ("map", "no-endpoint-nodeports", "{ type inet_proto . inet_service : verdict ; comment "
     '"vmap to drop or reject packets to service nodeports with no endpoints" ; }'),
    ("map", "no-endpoint-services", "{ type ipv4_addr . inet_proto . inet_service : verdict ; "
     'comment "vmap to drop or reject packets to services with no endpoints" ; }'),
    ("map", "service-ips", "{ type ipv4_addr . inet_proto . inet_service : verdict ; "
     'comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }'),
    ("map", "service-nodeports", "{ type inet_proto . inet_service : verdict ; "
     'comment "NodePort traffic" ; }'),
]
BASE_CHAINS = [
    ("cluster-ips-check", ""),
    ("filter-prerouting-pre-dnat", " { type filter hook prerouting priority -110 ; }"),
    ("filter-output-pre-dnat", " { type filter hook output priority -110 ; }"),
    ("filter-forward", " { type filter hook forward priority 0 ; }"),
    ("filter-input", " { type filter hook input priority 0 ; }"),
    ("filter-output", " { type filter hook output priority 0 ; }"),
    ("firewall-check", ""),
    ("mark-for-masquerade", ""),
    ("masquerading", ""),
    ("nat-output", " { type nat hook output priority -100 ; }"),
    ("nat-postrouting", " { type nat hook postrouting priority 100 ; }"),
    ("nat-prerouting", " { type nat hook prerouting priority -100 ; }"),
    ("nodeport-endpoints-check", ""),
    ("reject-chain", ' { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }'),
    ("services", ""),
    ("service-endpoints-check", ""),
]
BASE_RULES = [
    ("cluster-ips-check",
     'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'),
    ("cluster-ips-check",
     'ip daddr {{ {service_cidr} }} drop comment "Drop traffic to unallocated ClusterIPs"'),
    ("filter-prerouting-pre-dnat", "ct state new jump firewall-check"),
    ("filter-forward", "ct state new jump service-endpoints-check"),
    ("filter-forward", "ct state new jump cluster-ips-check"),
    ("filter-input", "ct state new jump nodeport-endpoints-check"),
    ("filter-input", "ct state new jump service-endpoints-check"),
    ("filter-output", "ct state new jump service-endpoints-check"),
    ("filter-output-pre-dnat", "ct state new jump firewall-check"),
    ("filter-output", "ct state new jump cluster-ips-check"),
    ("firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips"),
    ("mark-for-masquerade", "mark set mark or {mark}"),
    ("masquerading", "mark and {mark} == 0 return"),
    ("masquerading", "mark set mark xor {mark}"),
    ("masquerading", "masquerade fully-random"),
    ("nat-output", "jump services"),
    ("nat-postrouting", "jump masquerading"),
    ("nat-prerouting", "jump services"),
    ("nodeport-endpoints-check",
     "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports"),
    ("reject-chain", "reject"),
    ("services", "ip daddr . meta l4proto . th dport vmap @service-ips"),
    ("services", "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports"),
    ("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services"),
]


# with a zero CIDR in nodePortAddresses (MatchAll) there is no @nodeport-ips: these instead
MATCH_ALL_RULES = {
    "nodeport-endpoints-check": f"{NO_LOCALHOST} meta l4proto . th dport vmap "
                                "@no-endpoint-nodeports",
    "services": f"fib daddr type local {NO_LOCALHOST} meta l4proto . th dport vmap "
                "@service-nodeports",
}


def base_lines(service_cidr: IPv4Network, node_port_ips: list[str] | None,
               options: NftOptions = DEFAULTS) -> list[str]:
    """The table, its sets, maps, base and top-level chains, before any Service. NodePorts
    are served on the addresses in @nodeport-ips (the node's primary address by default),
    or, when node_port_ips is None, on every local address but 127/8."""
    match_all = node_port_ips is None
    lines = [f'add table {TABLE} {{ comment "rules for kube-proxy" ; }}']
    lines += [f"add {kind} {TABLE} {name} {spec}" for kind, name, spec in BASE_SETS
              if not (match_all and name == "nodeport-ips")]
    lines += [f"add chain {TABLE} {name}{spec}" for name, spec in BASE_CHAINS]
    for chain, rule in BASE_RULES:
        if match_all and "@nodeport-ips" in rule:
            rule = MATCH_ALL_RULES[chain]
        lines.append(f"add rule {TABLE} {chain} "
                     + rule.format(service_cidr=service_cidr, mark=options.mark))
    lines += [f"add element {TABLE} nodeport-ips {{ {ip} }}" for ip in node_port_ips or ()]
    return lines


def service_block(service: Service, slices: list[EndpointSlice], node: str,
                  node_ip: str | None, options: NftOptions = DEFAULTS) -> Block:
    """Every port of one Service as a node sees it (node "" sees no endpoint as its own);
    headless and ExternalName Services have none (DNS alone knows them)."""
    block = Block()
    if not service.proxied:
        return block
    for port in service.spec.ports:
        _port_objects(block, service, port, backends_for(service, port, slices), node,
                      node_ip, options)
    return block


def _port_objects(block: Block, service: Service, port: ServicePort, backends: list[Backend],
                  node: str, node_ip: str | None, options: NftOptions) -> None:
    spec = service.spec
    proto, name, base = port.protocol.lower(), service.port_name(port), port_base(service, port)
    cluster_chain, local_chain = f"service-{base}", f"local-{base}"
    external_chain, firewall_chain = f"external-{base}", f"firewall-{base}"
    outside = list(spec.external_ips)
    lb_ips = service.vip_load_balancer_ips
    node_port = port.node_port if spec.type in ("NodePort", "LoadBalancer") else None
    reachable_outside = service.externally_accessible
    internal_local = spec.internal_traffic_policy == "Local"
    external_local = service.external_policy_local

    found = categorize(service, backends, node)   # the iptables mode's CategorizeEndpoints
    cluster, local, reachable = found.cluster, found.local, found.reachable
    has_endpoints = found.any
    internal_chain, has_internal = cluster_chain, has_endpoints
    if internal_local:
        internal_chain, has_internal = local_chain, has_endpoints and bool(local)
    policy_chain, has_external = cluster_chain, has_endpoints
    if external_local:
        policy_chain, has_external = local_chain, has_endpoints and bool(local)
    internal_verdict = external_verdict = "goto reject-chain"
    if has_endpoints:
        internal_verdict = external_verdict = "drop"
    sticky = spec.session_affinity == "ClientIP"

    for backend in reachable:
        block.chain(f"endpoint-{endpoint_base(service, port, backend)}")
    if cluster:
        block.chain(cluster_chain)
    if local:
        block.chain(local_chain)
    if has_endpoints and reachable_outside:
        block.chain(external_chain)

    key = f"{spec.cluster_ip} . {proto} . {port.port}"
    block.element("cluster-ips", spec.cluster_ip)
    if has_internal:
        block.element("service-ips", key, f"goto {internal_chain}")
    else:
        block.element("no-endpoint-services", key, internal_verdict, name)
    for address in outside + lb_ips:
        if has_endpoints:
            block.element("service-ips", f"{address} . {proto} . {port.port}",
                          f"goto {external_chain}")
        if not has_external:
            block.element("no-endpoint-services", f"{address} . {proto} . {port.port}",
                          external_verdict, name)
    ranges = [str(IPv4Network(r.strip(), strict=False))
              for r in spec.load_balancer_source_ranges]
    firewalled = bool(lb_ips and ranges)
    if firewalled:
        block.chain(firewall_chain)
        for address in lb_ips:
            block.element("firewall-ips", f"{address} . {proto} . {port.port}",
                          f"goto {firewall_chain}")
    if node_port:
        if has_endpoints:   # NodePorts are not subject to loadBalancerSourceRanges
            block.element("service-nodeports", f"{proto} . {node_port}", f"goto {external_chain}")
        if not has_external:
            block.element("no-endpoint-nodeports", f"{proto} . {node_port}", external_verdict,
                          name)

    if has_internal and options.masquerade_all:
        block.chain(internal_chain).append(f"ip daddr {spec.cluster_ip} {MARK_MASQ}")
    elif has_internal and options.if_not_local:   # callers from outside the pod network
        block.chain(internal_chain).append(
            f"ip daddr {spec.cluster_ip} {options.if_not_local} {MARK_MASQ}")
    if has_endpoints and reachable_outside:
        rules = block.chain(external_chain)
        if not external_local:
            rules += [MARK_MASQ, f"goto {cluster_chain}"]
        else:
            if options.if_local:
                rules.append(f'{options.if_local} goto {cluster_chain} comment '
                             '"short-circuit pod traffic"')
            rules += [f'fib saddr type local {MARK_MASQ} comment "masquerade local traffic"',
                      f'fib saddr type local goto {cluster_chain} comment '
                      '"short-circuit local traffic"']
            if has_external:
                rules.append(f"goto {policy_chain}")
    if firewalled:
        sources = list(ranges)
        if node_ip is not None and any(IPv4Address(node_ip) in IPv4Network(r) for r in ranges):
            sources += lb_ips   # a node's own request to a VIP it holds comes from the VIP
        block.chain(firewall_chain).append(f"ip saddr != {{ {' , '.join(sources)} }} drop")
    if sticky:
        for backend in reachable:
            block.sets[f"affinity-{endpoint_base(service, port, backend)}"] = (
                f"{{ type ipv4_addr ; flags dynamic,timeout ; "
                f"timeout {spec.session_affinity_timeout()}s ; }}")
    if cluster:
        _to_endpoints(block.chain(cluster_chain), service, port, cluster, sticky)
    if local:
        _to_endpoints(block.chain(local_chain), service, port, local, sticky)
    for backend in reachable:
        ep_base = endpoint_base(service, port, backend)
        rules = block.chain(f"endpoint-{ep_base}")
        rules.append(f"ip saddr {backend.ip} {MARK_MASQ}")   # hairpin: a pod to itself
        if sticky:
            rules.append(f"update @affinity-{ep_base} {{ ip saddr }}")
        rules.append(f"meta l4proto {proto} dnat to {backend.ip}:{backend.port}")


def _to_endpoints(rules: list[str], service: Service, port: ServicePort,
                  backends: list[Backend], sticky: bool) -> None:
    """writeServiceToEndpointRules: a client seen recently goes back to its endpoint, any
    other is spread over the endpoints by one random number and a verdict map."""
    chains = [f"endpoint-{endpoint_base(service, port, b)}" for b in backends]
    if sticky:
        rules += [f"ip saddr @affinity-{chain.removeprefix('endpoint-')} goto {chain}"
                  for chain in chains]
    choices = " , ".join(f"{index} : goto {chain}" for index, chain in enumerate(chains))
    rules.append(f"numgen random mod {len(chains)} vmap {{ {choices} }}")


def update_lines(old: Block | None, new: Block | None) -> list[str]:
    """One Service's change as one transaction, the way a partial sync writes it: its chains
    are flushed and written again, its elements deleted or added where they differ. A chain
    it no longer has is only flushed (kube-proxy deletes it a second later, once no map
    element can still name it in the kernel); an affinity set it no longer has goes now."""
    old, new = old or Block(), new or Block()
    lines = [f"delete element {TABLE} {c} {{ {k} }}" for (c, k), value in old.elements.items()
             if new.elements.get((c, k)) != value]
    lines += [f"add set {TABLE} {name} {spec}" for name, spec in new.sets.items()
              if old.sets.get(name) != spec]
    for name, rules in new.chains.items():
        if old.chains.get(name) == rules:
            continue
        lines += [f"add chain {TABLE} {name}", f"flush chain {TABLE} {name}"]
        lines += [f"add rule {TABLE} {name} {rule}" for rule in rules]
    lines += [f"flush chain {TABLE} {name}" for name in old.chains if name not in new.chains]
    lines += [element_line(c, k, v, n) for (c, k), (v, n) in new.elements.items()
              if old.elements.get((c, k)) != (v, n)]
    lines += [f"delete set {TABLE} {name}" for name in old.sets if name not in new.sets]
    return lines
