"""kube-proxy's service chains, computed once for the whole cluster and shown by every node.

Every node's kube-proxy watches the same Services and EndpointSlices and so writes the same
chains; only a Service with a Local traffic policy looks different on a node that runs one
of its endpoints. This table holds the common chains once (SharedChains, one per table) and
updates them per Service as its events arrive, the way kube-proxy's partial syncs only
rewrite the chains of Services that changed. Each node's KubeProxy adds what is its own.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.cluster.service import EndpointSlice, Service
from playground.net.chains import SharedChains
from playground.net.netfilter import Chain, Rule, parse_rule
from playground.net.saved_chain import SavedChain
from playground.proxy.aggregate import Aggregate
from playground.proxy.rules import (
    NodeRules,
    backends_for,
    node_rules,
    service_port_rules,
    uses_local_endpoints,
)

TABLES = ("nat", "filter")


def needs_locality(service: Service) -> bool:
    return service.proxied and uses_local_endpoints(service)


class ServiceTable(Controller):
    """The shared service chains of one cluster; KubeProxy agents register to see them."""

    name = "kube-proxy/services"

    def __init__(self, api: ApiServer, cluster_cidr: IPv4Network) -> None:
        super().__init__()
        self.api, self.cluster_cidr = api, cluster_cidr
        self.shared = {table: SharedChains() for table in TABLES}
        self.services: dict[str, Service] = {}
        self.slices: dict[str, dict[tuple[str, str], EndpointSlice]] = {}
        self.common: dict[str, NodeRules] = {}    # per Service: a node with no endpoint of it
        self.local: dict[str, dict[str, NodeRules]] = {}   # per Service, nodes with endpoints
        self.local_keys: dict[str, set[str]] = {}   # per node, its Services with own rules
        self.udp: dict[str, set[str]] = {}          # per Service, its UDP endpoint addresses
        self.proxies: dict[str, object] = {}
        self.copies: dict[tuple[str, str], set[str]] = {}   # nodes with their own aggregate
        self.aggregates: dict[tuple[str, str], Aggregate] = {}
        self.dirty: set[str] = set()   # Services whose events wait for the end of a burst
        base = node_rules([], {}, "", cluster_cidr)
        for table in TABLES:
            for name, lines in getattr(base, table).items():
                # only KUBE-SERVICES ends with a fixed rule (the jump to KUBE-NODEPORTS)
                head, tail = ([], lines) if name == "KUBE-SERVICES" and table == "nat" \
                    else (lines, [])
                aggregate = self.aggregates[(table, name)] = Aggregate(table, name, head, tail)
                self.shared[table].set(name, aggregate.chain)

    def start(self) -> None:
        self.follow(self.api.watch("Service"), self.on_service)
        self.follow(self.api.watch("EndpointSlice"), self.on_slice)

    @staticmethod
    def rule(table: str, chain: str, spec: str) -> Rule:
        rule = parse_rule(table, chain, spec)
        rule.spec()   # rendered once here, for every node that will show it
        return rule

    # events

    def on_service(self, event: Event) -> None:
        service = event.object
        if event.type == "DELETED":
            self.services.pop(service.key, None)
        else:
            self.services[service.key] = service
        self._changed(service.key)

    def on_slice(self, event: Event) -> None:
        slice_ = event.object
        group = self.slices.setdefault(slice_.service, {})
        where = (slice_.metadata.namespace, slice_.metadata.name)
        if event.type == "DELETED":
            group.pop(where, None)
            if not group:
                del self.slices[slice_.service]
        else:
            group[where] = slice_
        self._forget_stale_udp(slice_.service)
        self._changed(slice_.service)

    def _changed(self, key: str) -> None:
        """Sync each changed Service once per burst of events, when the last one is handled
        (so settled still means synced); a Service's chains only depend on its final state."""
        self.dirty.add(key)
        if self.burst_goes_on(len(self.dirty)):
            return
        keys, self.dirty = sorted(self.dirty), set()
        for key in keys:
            self.sync(key)

    # rules

    def _rules_for(self, service: Service, node: str) -> NodeRules:
        rules = NodeRules()
        group = self.slices.get(service.key, {})
        slices = [group[where] for where in sorted(group)]
        for port in service.spec.ports:
            service_port_rules(rules, service, port, backends_for(service, port, slices),
                               node, self.cluster_cidr)
        return rules

    def _local_nodes(self, service: Service) -> set[str]:
        return {e.node_name for s in self.slices.get(service.key, {}).values()
                for e in s.endpoints if (e.ready or e.serving) and e.node_name}

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
        if service is not None and needs_locality(service):
            new_local = {node: self._rules_for(service, node)
                         for node in self._local_nodes(service)}
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
        for copied in self.copies.values():
            copied.discard(node)
        for (table, name), parts in overrides.items():
            self.copies.setdefault((table, name), set()).add(node)
            rules = self.aggregates[(table, name)].render(parts)
            own[table][name] = Chain(name, rules=rules, shared=True)
        return own

    def _forget_stale_udp(self, key: str) -> None:
        """A UDP flow has no end, so kube-proxy deletes the conntrack entries of an endpoint
        that went away; otherwise packets would keep going to a dead pod."""
        current = {e.address for s in self.slices.get(key, {}).values()
                   if any(p.protocol == "UDP" for p in s.ports) for e in s.endpoints}
        gone = self.udp.get(key, set()) - current
        if current:
            self.udp[key] = current
        else:
            self.udp.pop(key, None)
        for address in gone:
            for proxy in self.proxies.values():
                proxy.forget_udp(IPv4Address(address))
