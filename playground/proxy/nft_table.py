"""kube-proxy's nftables objects, computed once for the whole cluster and shown by every node.

The twin of the iptables mode's ServiceTable: every node's kube-proxy watches the same
Services and EndpointSlices and so writes the same chains and elements. A node's own view of
a Service differs only where kube-proxy's inputs really differ: a Local traffic policy on a
node that runs one of its endpoints, and a LoadBalancer source range that holds the node's
own address. Those views are computed for that node when asked, and kept until the Service
changes; every other node shares the one common Block.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer
from playground.cluster.service import SERVICE_CIDR, EndpointSlice, Service
from playground.proxy.conntrack_cleanup import clean_after_sync
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

    def start(self) -> None:
        self.follow_services()

    def _changed(self, key: str) -> None:
        """Sync each changed Service once per burst of events (see ServiceTable._changed)."""
        self.dirty.add(key)
        if self.burst_goes_on(len(self.dirty)):
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
            self.common[key] = service_block(service, self.slices_of(key), "", None,
                                             self.cluster_cidr)
        for node in sorted(self.proxies):
            self.proxies[node].service_changed(key)

    def slices_of(self, key: str) -> list[EndpointSlice]:
        group = self.slices.get(key, {})
        return [group[where] for where in sorted(group)]

    def _own_view(self, service: Service, node: str, node_ip: str | None) -> bool:
        """Whether this node's view of the Service can differ from the common one."""
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
            views[node] = service_block(service, self.slices_of(key), node, node_ip,
                                        self.cluster_cidr)
        return views[node]

    def node_lines(self, node: str, node_ip: str | None) -> list[str]:
        """The whole table of one node, as one transaction of `add` lines."""
        lines = base_lines(self.service_cidr, node_ip)
        for key in sorted(self.services):
            lines += block_lines(self.view(key, node, node_ip))
        return lines
