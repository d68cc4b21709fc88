"""kube-proxy's nftables objects, computed once for the whole cluster and shown by every node.

The twin of the iptables mode's ServiceTable: every node's kube-proxy watches the same
Services and EndpointSlices and so writes the same chains and elements. A node's own view of
a Service differs only where kube-proxy's inputs really differ: a Local traffic policy on a
node that runs one of its endpoints, and a LoadBalancer source range that holds the node's
own address. Those views are computed for that node when asked, and kept until the Service
changes; every other node shares the one common Block. With `detectLocalMode: NodeCIDR` the
local traffic detector is each node's pod CIDR, so every node's view is its own.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.proxy_config import DEFAULT_OPTIONS, ProxyOptions
from playground.cluster.service import SERVICE_CIDR, EndpointSlice, Service
from playground.proxy.conntrack_cleanup import clean_after_sync
from playground.proxy.nft_options import NftOptions, nft_options
from playground.proxy.nft_rules import Block, base_lines, block_lines, service_block
from playground.proxy.service_table import needs_locality
from playground.proxy.service_watch import ServiceWatch


class NftServiceTable(ServiceWatch):
    name = "kube-proxy/nftables"

    def __init__(self, api: ApiServer, cluster_cidr: IPv4Network,
                 service_cidr: IPv4Network = SERVICE_CIDR) -> None:
        super().__init__()
        self.api, self.cluster_cidr, self.service_cidr = api, cluster_cidr, service_cidr
        self.common: dict[str, Block] = {}
        self.own: dict[str, dict[str, Block]] = {}   # per Service, the nodes' own views
        self.proxies: dict[str, object] = {}          # per node, the agent to tell
        self.dirty: set[str] = set()
        self.options: ProxyOptions = DEFAULT_OPTIONS

    def start(self) -> None:
        self.follow_services()
        self.follow(self.api.watch("KubeProxyConfiguration"), self.on_config)

    def on_config(self, event: Event) -> None:
        """New options: every kube-proxy restarts with them and writes its table anew."""
        options = DEFAULT_OPTIONS if event.type == "DELETED" else event.object.options()
        if options != self.options:
            self.options = options
            self.own.clear()
            for key in sorted(self.services):
                self.common[key] = self._block(self.services[key], "", None)
            for node in sorted(self.proxies):
                self.proxies[node].options_changed()
        self._flush()   # this may be a burst's last event: what waited for it syncs now

    def rule_options(self, node: str) -> NftOptions:
        """The option-made rule parts one node's kube-proxy writes (node "": any node's)."""
        pod_cidr = None
        if node and self.options.detect_local_mode == "NodeCIDR":
            found = self.api.peek("Node", "", node)
            pod_cidr = found.spec.pod_cidr if found is not None else None
        return nft_options(self.options, self.cluster_cidr, pod_cidr)

    def _block(self, service: Service, node: str, node_ip: str | None) -> Block:
        return service_block(service, self.slices_of(service.key), node, node_ip,
                             self.rule_options(node))

    def _changed(self, key: str) -> None:
        """Sync each changed Service once per burst of events (see ServiceTable._changed)."""
        self.dirty.add(key)
        self._flush()

    def _flush(self) -> None:
        if not self.dirty or self.burst_goes_on(len(self.dirty)):
            return
        keys, self.dirty = sorted(self.dirty), set()
        for key in keys:
            self.sync(key)
        # the same conntrack clean-up as iptables mode's (kube-proxy's CleanStaleEntries)
        clean_after_sync(self.proxies, self.services, self.slices, self.udp_keys)

    def sync(self, key: str) -> None:
        """Recompute one Service's common Block, forget the nodes' own views of it, and
        tell every node's agent, which sends its nf_tables the difference."""
        self.own.pop(key, None)
        service = self.services.get(key)
        if service is None:
            self.common.pop(key, None)
        else:
            self.common[key] = self._block(service, "", None)
        for node in sorted(self.proxies):
            self.proxies[node].service_changed(key)

    def slices_of(self, key: str) -> list[EndpointSlice]:
        group = self.slices.get(key, {})
        return [group[where] for where in sorted(group)]

    def _own_view(self, service: Service, node: str, node_ip: str | None) -> bool:
        """Whether this node's view of the Service can differ from the common one."""
        if service.proxied and self.options.detect_local_mode == "NodeCIDR":
            return True
        if needs_locality(service) and any(
                e.node_name == node for s in self.slices.get(service.key, {}).values()
                for e in s.endpoints):
            return True
        if node_ip is None or service.spec.type != "LoadBalancer":
            return False
        address = IPv4Address(node_ip)
        return any(address in IPv4Network(r.strip(), strict=False)
                   for r in service.spec.load_balancer_source_ranges)

    def view(self, key: str, node: str, node_ip: str | None) -> Block | None:
        """What one node's kube-proxy writes for one Service (None: it has no Service)."""
        service = self.services.get(key)
        if service is None:
            return None
        if not self._own_view(service, node, node_ip):
            return self.common[key]
        views = self.own.setdefault(key, {})
        if node not in views:
            views[node] = self._block(service, node, node_ip)
        return views[node]

    def node_lines(self, node: str, node_ip: str | None,
                   node_port_ips: list[str] | None) -> list[str]:
        """The whole table of one node, as one transaction of `add` lines."""
        lines = base_lines(self.service_cidr, node_port_ips, self.rule_options(node))
        for key in sorted(self.services):
            lines += block_lines(self.view(key, node, node_ip))
        return lines
