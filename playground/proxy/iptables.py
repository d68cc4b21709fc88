"""kube-proxy in iptables mode: watches Services and EndpointSlices, rewrites its chains."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.net.netns import Namespace
from playground.proxy.rules import BASE_JUMPS, node_rules


class KubeProxy(Controller):
    def __init__(self, api: ApiServer, node: str, ns: Namespace,
                 cluster_cidr: IPv4Network) -> None:
        super().__init__()
        self.api, self.node, self.ns, self.cluster_cidr = api, node, ns, cluster_cidr
        self.name = f"kube-proxy/{node}"
        self.owned: dict[str, set[str]] = {"nat": set(), "filter": set()}
        self.udp_endpoints: set[str] = set()

    def start(self) -> None:
        self.follow(self.api.watch("Service"), self.on_change)
        self.follow(self.api.watch("EndpointSlice"), self.on_change)
        self.sync()

    def on_change(self, event: Event) -> None:
        self.sync()

    def sync(self) -> None:
        """Rewrite every chain kube-proxy owns, then drop the chains no longer needed."""
        slices: dict[str, list] = {}
        for slice_ in self.api.list("EndpointSlice"):
            slices.setdefault(slice_.service, []).append(slice_)
        rules = node_rules(self.api.list("Service"), slices, self.node, self.cluster_cidr)
        self._forget_stale_udp(slices)
        nf = self.ns.netfilter
        for table in ("nat", "filter"):
            chains: dict[str, list[str]] = getattr(rules, table)
            for chain in chains:
                if chain not in self.owned[table]:
                    nf.iptables(f"-t {table} -N {chain}")
            for chain, lines in chains.items():
                nf.iptables(f"-t {table} -F {chain}")
                for line in lines:
                    nf.iptables(f"-t {table} -A {chain} {line}")
            for stale in self.owned[table] - set(chains):
                nf.iptables(f"-t {table} -F {stale}")
            for stale in self.owned[table] - set(chains):
                nf.iptables(f"-t {table} -X {stale}")
            self.owned[table] = set(chains)
        for table, chain, rule in reversed(BASE_JUMPS):
            if not self._has(table, chain, rule):
                nf.iptables(f"-t {table} -I {chain} 1 {rule}")

    def _forget_stale_udp(self, slices: dict[str, list]) -> None:
        """A UDP flow has no end, so kube-proxy deletes the conntrack entries of an endpoint
        that went away; otherwise packets would keep going to a dead pod."""
        current = {e.address for group in slices.values() for s in group
                   if any(p.protocol == "UDP" for p in s.ports) for e in s.endpoints}
        for address in self.udp_endpoints - current:
            self.ns.conntrack.remove_where("udp", IPv4Address(address))
        self.udp_endpoints = current

    def _has(self, table: str, chain: str, rule: str) -> bool:
        try:
            self.ns.netfilter.iptables(f"-t {table} -C {chain} {rule}")
        except ValueError:
            return False
        return True
