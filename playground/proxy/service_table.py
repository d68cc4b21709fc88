"""kube-proxy's service chains, computed once for the whole cluster and shown by every node.

Every node's kube-proxy watches the same Services and EndpointSlices and so writes the same
chains; only a Service with a Local traffic policy looks different on a node that runs one
of its endpoints. This table holds the common chains once (SharedChains, one per table) and
updates them per Service as its events arrive, the way kube-proxy's partial syncs only
rewrite the chains of Services that changed. Each node's KubeProxy adds what is its own.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.proxy_config import DEFAULT_OPTIONS, ProxyOptions
from playground.cluster.service import Service
from playground.cluster.service_fields import needs_health_check
from playground.net.chains import SharedChains
from playground.net.netfilter import Chain, Rule, parse_rule
from playground.net.saved_chain import SavedChain
from playground.proxy.aggregate import Aggregate
from playground.proxy.conntrack_cleanup import clean_after_sync
from playground.proxy.rules import (
    LARGE_CLUSTER_ENDPOINTS,
    NodeRules,
    allows_node,
    backends_for,
    node_rules,
    nodeports_jumps,
    service_port_rules,
    uses_local_endpoints,
)
from playground.proxy.service_watch import ServiceWatch

TABLES = ("nat", "filter")


def needs_locality(service: Service) -> bool:
    return service.proxied and uses_local_endpoints(service)


class ServiceTable(ServiceWatch):
    """The shared service chains of one cluster; KubeProxy agents register to see them."""

    name = "kube-proxy/services"

    def __init__(self, api: ApiServer, cluster_cidr: IPv4Network,
                 options: ProxyOptions = DEFAULT_OPTIONS) -> None:
        super().__init__()
        self.api, self.cluster_cidr, self.options = api, cluster_cidr, options
        self.endpoints: dict[str, int] = {}   # per Service, its endpoints over all its ports
        self.large = False   # kube-proxy's large cluster mode: over 1,000 endpoints
        self.shared = {table: SharedChains() for table in TABLES}
        self.common: dict[str, NodeRules] = {}    # per Service: a node with no endpoint of it
        self.local: dict[str, dict[str, NodeRules]] = {}   # per Service, nodes with endpoints
        self.local_keys: dict[str, set[str]] = {}   # per node, its Services with own rules
        self.proxies: dict[str, object] = {}
        self.copies: dict[tuple[str, str], set[str]] = {}   # nodes with their own aggregate
        self.aggregates: dict[tuple[str, str], Aggregate] = {}
        self.dirty: set[str] = set()   # Services whose events wait for the end of a burst
        self.health_keys: set[str] = set()   # Services some node may hold a health listener for
        self._base_chains()

    def _base_chains(self) -> None:
        """The chains every Service adds to, each with its fixed rules; any other chain
        a former set of options left is dropped."""
        for table in TABLES:
            for name in list(self.shared[table].chains):
                self.shared[table].remove(name)
        self.aggregates.clear()
        base = node_rules([], {}, "", self.cluster_cidr, self.options)
        for table in TABLES:
            for name, lines in getattr(base, table).items():
                # only KUBE-SERVICES ends with a fixed rule (the jump to KUBE-NODEPORTS)
                head, tail = ([], lines) if name == "KUBE-SERVICES" and table == "nat" \
                    else (lines, [])
                aggregate = self.aggregates[(table, name)] = Aggregate(table, name, head, tail)
                self.shared[table].set(name, aggregate.chain)

    def start(self) -> None:
        self.follow_services()
        self.follow(self.api.watch("KubeProxyConfiguration"), self.on_config)

    def on_config(self, event: Event) -> None:
        """New options: kube-proxy restarts with them and rewrites everything."""
        options = DEFAULT_OPTIONS if event.type == "DELETED" else event.object.options()
        if options != self.options:
            self.reconfigure(options)
        self._flush()   # this may be a burst's last event: what waited for it syncs now

    def reconfigure(self, options: ProxyOptions) -> None:
        self.options = options
        self._base_chains()
        self.common.clear()
        self.local.clear()
        self.local_keys.clear()
        self.copies.clear()
        for key in sorted(self.services):
            self.sync(key)
        for proxy in self.proxies.values():
            proxy.options_changed()

    @staticmethod
    def rule(table: str, chain: str, spec: str) -> Rule:
        rule = parse_rule(table, chain, spec)
        rule.spec()   # rendered once here, for every node that will show it
        return rule

    # events

    def _changed(self, key: str) -> None:
        """Sync each changed Service once per burst of events, when the last one is handled
        (so settled still means synced); a Service's chains only depend on its final state."""
        self.dirty.add(key)
        self._flush()

    def _flush(self) -> None:
        if not self.dirty or self.burst_goes_on(len(self.dirty)):
            return
        for key in sorted(self.dirty):
            self._count_endpoints(key)
        keys, self.dirty = sorted(self.dirty), set()
        for key in keys:
            self.sync(key)
        self.clean_conntrack()

    # rules

    def _rules_for(self, service: Service, node: str) -> NodeRules:
        rules = NodeRules()
        group = self.slices.get(service.key, {})
        slices = [group[where] for where in sorted(group)]
        node_ip = self.node_ip(node) if node else None
        node_cidr = self.node_cidr(node) if node else None
        for port in service.spec.ports:
            service_port_rules(rules, service, port, backends_for(service, port, slices),
                               node, self.cluster_cidr, self.options, node_ip, self.large,
                               node_cidr)
        return rules

    def node_ip(self, node: str) -> str | None:
        found = self.api.peek("Node", "", node)
        return found.status.internal_ip if found is not None else None

    def node_cidr(self, node: str) -> str | None:
        found = self.api.peek("Node", "", node)
        return found.spec.pod_cidr if found is not None else None

    @property
    def per_node(self) -> bool:
        """Options that make every node's Service chains its own (the node's pod CIDR in
        each masquerade rule)."""
        return self.options.detect_local_mode == "NodeCIDR"

    def nodeports_tail(self, node: str) -> list[str]:
        """KUBE-SERVICES' last rules on this node (its own addresses with nodePortAddresses)."""
        proxy = self.proxies.get(node)
        addresses = proxy.ns.local_addresses() if proxy is not None else ()
        return nodeports_jumps(self.options, self.node_ip(node), addresses)

    def _own_nodes(self, service: Service) -> set[str]:
        """The nodes whose rules for this Service differ from the common ones: those with
        its endpoints (Local policies), those a source range lets through (their own IP)."""
        nodes = set()
        if self.per_node and service.proxied:
            nodes = set(self.proxies)
        elif needs_locality(service):
            nodes = {e.node_name for s in self.slices.get(service.key, {}).values()
                     for e in s.endpoints if (e.ready or e.serving) and e.node_name}
        spec = service.spec
        if spec.type == "LoadBalancer" and spec.load_balancer_source_ranges and \
                service.vip_load_balancer_ips:
            nodes |= {node for node in self.proxies
                      if allows_node(spec.load_balancer_source_ranges, self.node_ip(node))}
        return nodes

    def node_joined(self, node: str) -> None:
        """A new node's kube-proxy: Services whose source ranges may hold its IP sync again,
        and it opens the health check ports of the Services that have one."""
        for key, service in sorted(self.services.items()):
            if service.spec.load_balancer_source_ranges or self.per_node:
                self.sync(key)
            elif service.spec.health_check_node_port:
                self.sync_health(key, node, self.proxies[node])

    def _count_endpoints(self, key: str) -> None:
        """Keep the cluster's endpoint count; crossing 1,000 rewrites every Service (the
        endpoint rules lose or regain their comments)."""
        service, count = self.services.get(key), 0
        if service is not None:   # kube-proxy counts every endpoint of every port, ready or not
            wanted = {(port.name, port.protocol) for port in service.spec.ports}
            for slice_ in self.slices.get(key, {}).values():
                ports = sum((p.name, p.protocol) in wanted for p in slice_.ports)
                count += ports * len(slice_.endpoints)
        if count:
            self.endpoints[key] = count
        else:
            self.endpoints.pop(key, None)
        large = sum(self.endpoints.values()) > LARGE_CLUSTER_ENDPOINTS
        if large != self.large:
            self.large = large
            self.dirty |= set(self.services)

    def sync(self, key: str) -> None:
        """Recompute one Service's rules and change only the chains that differ."""
        service = self.services.get(key)
        old = self.common.pop(key, None) or NodeRules()
        new = self._rules_for(service, "") if service is not None else NodeRules()
        if service is not None:
            self.common[key] = new
        stale: set[str] = set()   # nodes whose own copy of a changed aggregate is now old
        for table in TABLES:
            for name in self._apply(table, key, getattr(old, table), getattr(new, table)):
                stale |= self.copies.get((table, name), set())
        old_local = self.local.pop(key, {})
        new_local = {}
        if service is not None:
            new_local = {node: self._rules_for(service, node)
                         for node in self._own_nodes(service)}
        if new_local:
            self.local[key] = new_local
        for node in old_local.keys() - new_local.keys():
            self.local_keys.get(node, set()).discard(key)
        for node in new_local:
            self.local_keys.setdefault(node, set()).add(key)
        stale |= {node for node in old_local.keys() | new_local.keys()
                  if old_local.get(node) != new_local.get(node)}
        for node in sorted(stale):
            proxy = self.proxies.get(node)
            if proxy is not None:
                proxy.refresh()
        if key in self.health_keys or self._health_port(key):
            for node, proxy in sorted(self.proxies.items()):
                self.sync_health(key, node, proxy)
            if not self._health_port(key):
                self.health_keys.discard(key)   # every node closed its listener

    def _health_port(self, key: str) -> int | None:
        service = self.services.get(key)
        return service.spec.health_check_node_port if service is not None and \
            needs_health_check(service.spec) else None

    def sync_health(self, key: str, node: str, proxy) -> None:
        """The node's health check listener for the Service, and its local endpoint count
        (distinct ready addresses on the node, as LocalReadyEndpoints counts them)."""
        port = self._health_port(key)
        if port:   # a Service no node listens for is skipped by sync, 10,000 nodes at a time
            self.health_keys.add(key)
        local = {e.address for s in self.slices.get(key, {}).values() for e in s.endpoints
                 if e.ready and e.node_name == node} if port else set()
        proxy.health.sync_service(key, port, len(local))

    def _apply(self, table: str, key: str, old: dict[str, list[str]],
               new: dict[str, list[str]]) -> set[str]:
        """Change the shared chains; returns the aggregates that changed."""
        shared = self.shared[table]
        changed = set()
        for name in old.keys() - new.keys():
            if (table, name) in self.aggregates:
                self.aggregates[(table, name)].put(key, [])
                shared.changed(name)
                changed.add(name)
            else:
                shared.remove(name)
        for name, lines in new.items():
            if old.get(name) == lines and name in old:
                continue
            aggregate = self.aggregates.get((table, name))
            if aggregate is not None:
                aggregate.put(key, lines)
                shared.changed(name)
                changed.add(name)
            else:   # a Service's own chain: parsed when first walked, most never are
                shared.set(name, SavedChain(table, name, lines))
        return changed

    def node_chains(self, node: str) -> dict[str, dict[str, Chain]]:
        """The chains that are this node's own (Local policy Services with endpoints here),
        per table: everything else the node sees is shared. They count per node too."""
        own: dict[str, dict[str, Chain]] = {table: {} for table in TABLES}
        overrides: dict[tuple[str, str], dict[str, list[Rule]]] = {}
        for key in sorted(self.local_keys.get(node, ())):
            variant, common = self.local[key][node], self.common[key]
            for table in TABLES:
                mine, theirs = getattr(variant, table), getattr(common, table)
                for name, lines in mine.items():
                    if theirs.get(name) == lines:
                        continue
                    if (table, name) in self.aggregates:
                        overrides.setdefault((table, name), {})[key] = [
                            self.rule(table, name, line) for line in lines]
                    else:
                        own[table][name] = SavedChain(table, name, lines, shared=True)
                for name in theirs.keys() - mine.keys():
                    if (table, name) in self.aggregates:
                        overrides.setdefault((table, name), {})[key] = []
        services = self.aggregates[("nat", "KUBE-SERVICES")]
        tail = self.nodeports_tail(node)
        if tail != services.tail:
            overrides.setdefault(("nat", "KUBE-SERVICES"), {})
        for copied in self.copies.values():
            copied.discard(node)
        for (table, name), parts in overrides.items():
            self.copies.setdefault((table, name), set()).add(node)
            aggregate = self.aggregates[(table, name)]
            own_tail = [self.rule(table, name, line) for line in tail] \
                if (table, name) == ("nat", "KUBE-SERVICES") and tail != aggregate.tail else None
            own[table][name] = Chain(name, rules=aggregate.render(parts, own_tail), shared=True)
        return own

    def clean_conntrack(self) -> None:
        clean_after_sync(self.proxies, self.services, self.slices, self.udp_keys)
