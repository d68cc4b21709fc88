"""kube-proxy in nftables mode on one node: it sends the node's nf_tables `table ip kube-proxy`
as transactions in nft's own language, the way knftables does: the whole table once, then,
for each Service that changed, one transaction with that Service's difference.

What it writes comes from the cluster's NftServiceTable (computed once, shared); the agent
only keeps which view of each Service it last sent, and the chains it flushed that wait to
be deleted.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from playground.cluster.api import ApiServer
from playground.cluster.controllers.base import Controller
from playground.net.netns import Namespace
from playground.proxy.healthcheck import HealthServer
from playground.proxy.nft_options import node_port_ips
from playground.proxy.nft_rules import TABLE, Block, update_lines
from playground.proxy.nft_table import NftServiceTable


class NftKubeProxy(Controller):
    def __init__(self, api: ApiServer, node: str, ns: Namespace,
                 table: NftServiceTable) -> None:
        super().__init__()
        self.api, self.node, self.ns, self.table = api, node, ns, table
        self.name = f"kube-proxy/{node}"
        self.node_ip: str | None = None
        self.sent: dict[str, Block] = {}   # per Service, the view this node's table holds
        self.stale: dict[str, float] = {}  # chains flushed, not deleted yet: since when
        self.health = HealthServer(ns, node)   # its /healthz and the healthCheckNodePorts

    def start(self) -> None:
        self.health.listen_healthz(self.api.clock())
        self.node_ip = self.primary_address()
        self.table.proxies[self.node] = self
        for key in sorted(self.table.services):
            self._health(key)
        self.send(self.full_sync())

    def full_sync(self) -> list[str]:
        """The whole table, as kube-proxy writes it when it starts (the node's addresses
        for NodePorts are read then, as its setupNFTables reads them)."""
        self.sent = {key: self.table.view(key, self.node, self.node_ip)
                     for key in self.table.services}
        self.stale.clear()
        ports_on = node_port_ips(self.table.options.node_port_addresses, self.node_ip,
                                 lambda: [a.ip for a in self.ns.addresses])
        return self.table.node_lines(self.node, self.node_ip, ports_on)

    def options_changed(self) -> None:
        """A restart with new options: the table is replaced by the new one in one
        transaction, so no packet sees it half written."""
        self.send([f"delete table {TABLE}", *self.full_sync()])

    async def stop(self) -> None:
        for key in list(self.health.instances):
            self.health.sync_service(key, None, 0)
        self.health.close_healthz()
        self.table.proxies.pop(self.node, None)
        await super().stop()

    def primary_address(self) -> str | None:
        """The node's IP, as kube-proxy finds it: the address of the interface its Node's
        InternalIP is on (the Node object is told it only once the machine is built)."""
        node = self.api.peek("Node", "", self.node)
        if node is not None and node.status.internal_ip:
            return node.status.internal_ip
        found = next((a for a in self.ns.addresses if a.dev == "eth0" and a.scope == "global"),
                     None)
        return str(found.ip) if found is not None else None

    def _health(self, key: str) -> None:
        self.health.sync_from(key, self.table.services.get(key), self.table.slices_of(key))

    def service_changed(self, key: str) -> None:
        self._health(key)
        new = self.table.view(key, self.node, self.node_ip)
        old = self.sent.get(key)
        if new is old:
            return
        self._delete_stale()
        if new is None:
            del self.sent[key]
        else:
            self.sent[key] = new
        now = self.api.clock()
        for name in (old.chains if old else ()):
            if new is None or name not in new.chains:
                self.stale[name] = now
        for name in (new.chains if new else ()):
            self.stale.pop(name, None)   # used again: flushed and written anew, not deleted
        lines = update_lines(old, new)
        if lines:
            self.send(lines)

    def _delete_stale(self) -> None:
        """At the start of a sync, in a transaction of its own, delete the chains flushed
        more than a second ago (kube-proxy waits, as kernels before 6.2 may not yet have
        noticed a deleted map element no longer names the chain)."""
        now = self.api.clock()
        aged = sorted(name for name, since in self.stale.items() if since < now - 1)
        if aged:
            for name in aged:
                del self.stale[name]
            self.send([f"delete chain {TABLE} {name}" for name in aged])

    def send(self, lines: list[str]) -> None:
        """One transaction, all or nothing, as `nft -f` takes it."""
        self.ns.nft.run("\n".join(lines) + "\n")

    def forget_udp(self, address: IPv4Address) -> None:
        if len(self.ns.conntrack):
            self.ns.conntrack.remove_where("udp", address)
