"""kube-proxy in iptables mode on one node: the jumps from the built-in chains into its own,
the cluster's shared service chains, and the chains that are this node's alone.

The service chains themselves are computed once per cluster (ServiceTable) and shown in
every node's nat and filter tables; this agent only adds what differs per node.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from playground.cluster.api import ApiServer
from playground.cluster.controllers.base import Controller
from playground.net.netns import Namespace
from playground.proxy.healthcheck import HealthServer
from playground.proxy.rules import BASE_JUMPS, NFACCT_COUNTERS
from playground.proxy.service_table import TABLES, ServiceTable


class KubeProxy(Controller):
    def __init__(self, api: ApiServer, node: str, ns: Namespace,
                 cluster_cidr: IPv4Network, table: ServiceTable | None = None) -> None:
        super().__init__()
        self.api, self.node, self.ns, self.cluster_cidr = api, node, ns, cluster_cidr
        self.name = f"kube-proxy/{node}"
        self.own_table = table is None   # a lone proxy (in tests) runs its own service table
        self.table = table if table is not None else ServiceTable(api, cluster_cidr)
        self.mine: dict[str, set[str]] = {table: set() for table in TABLES}
        self.health = HealthServer(ns, node)

    def start(self) -> None:
        nf = self.ns.netfilter
        for table in TABLES:
            nf.share(table, self.table.shared[table])
        for table, chain, rule in reversed(BASE_JUMPS):
            if not self._has(table, chain, rule):
                nf.iptables(f"-t {table} -I {chain} 1 {rule}", check_table=False)
        for table in ("mangle", "nat", "filter"):   # ipt.Monitor's canaries: a flush shows
            if "KUBE-PROXY-CANARY" not in nf.table(table).chains:
                nf.iptables(f"-t {table} -N KUBE-PROXY-CANARY", check_table=False)
        for counter in NFACCT_COUNTERS:   # nfacct.Ensure
            nf.nfacct.setdefault(counter, [0, 0])
        self.set_route_localnet()
        self.health.listen_healthz(self.api.clock())
        self.table.proxies[self.node] = self
        if self.own_table:
            self.table.start()
        else:
            self.table.node_joined(self.node)
        self.refresh()

    async def stop(self) -> None:
        self.table.proxies.pop(self.node, None)
        for key in list(self.health.instances):
            self.health.sync_service(key, None, 0)
        self.health.close_healthz()
        if self.own_table:
            await self.table.stop()
        await super().stop()

    def set_route_localnet(self) -> None:
        """Localhost node ports: 127/8 may be routed out once DNATed (issue 90259)."""
        if self.table.options.localhost_node_ports_on:
            self.ns.sysctl["net.ipv4.conf.all.route_localnet"] = "1"

    def options_changed(self) -> None:
        self.set_route_localnet()
        self.refresh()

    def refresh(self) -> None:
        """Put this node's own chains in place; where it has none the shared ones show."""
        chains = self.table.node_chains(self.node)
        nf = self.ns.netfilter
        for table in TABLES:
            view = nf.table(table).chains
            for stale in self.mine[table] - chains[table].keys():
                view.own.pop(stale, None)
                view.version += 1
            for name, chain in chains[table].items():
                view[name] = chain
            self.mine[table] = set(chains[table])

    def _has(self, table: str, chain: str, rule: str) -> bool:
        try:
            self.ns.netfilter.iptables(f"-t {table} -C {chain} {rule}")
        except ValueError:
            return False
        return True
