"""kube-proxy in IPVS mode: Service addresses on kube-ipvs0, IPVS virtual servers, ipsets,
and the few iptables rules IPVS still needs (masquerade marks, accepts, the VIP filter).

Changes are applied as differences, as the proxier does, so round robin positions and
existing connections survive a sync.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.cluster.api import ApiServer, Event
from playground.cluster.controllers.base import Controller
from playground.net.link import Dummy, stable_mac
from playground.net.netns import Namespace
from playground.proxy.conntrack_cleanup import StaleUdp
from playground.proxy.healthcheck import HealthServer
from playground.proxy.ipvs_state import (
    BASE_JUMPS,
    DUMMY_DEVICE,
    IPSETS,
    VirtualServer,
    node_state,
)

SYSCTLS = {"net.ipv4.vs.conntrack": "1"}  # so nat POSTROUTING can masquerade IPVS traffic
# with ipvs.strictARP: answer ARP only for addresses of the device asked (kube-ipvs0's are
# on no wire) and announce from them only (NewProxier)
STRICT_ARP = {"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2"}


class IpvsProxy(Controller):
    def __init__(self, api: ApiServer, node: str, ns: Namespace,
                 cluster_cidr: IPv4Network) -> None:
        super().__init__()
        self.api, self.node, self.ns, self.cluster_cidr = api, node, ns, cluster_cidr
        self.name = f"kube-proxy/{node}"
        self.owned: dict[str, set[str]] = {"nat": set(), "filter": set()}
        self.synced_addresses: list[IPv4Address] | None = None   # NodePorts listen there
        self.health = HealthServer(ns, node)   # its /healthz and the healthCheckNodePorts

    def start(self) -> None:
        ns = self.ns
        self.health.listen_healthz(self.api.clock())
        ns.load_ipvs()
        for key, value in SYSCTLS.items():
            ns.sysctl[key] = value
        if DUMMY_DEVICE not in ns.devices:
            ns.add_device(Dummy(DUMMY_DEVICE, stable_mac(f"{ns.name}|{DUMMY_DEVICE}"), up=False))
        for name, set_type, comment in IPSETS:
            if ns.ipsets.get(name) is None:
                ns.ipsets.create(name, set_type, comment)
        self.follow(self.api.watch("Service"), self.on_change)
        self.follow(self.api.watch("EndpointSlice"), self.on_change)
        self.follow(self.api.watch("KubeProxyConfiguration"), self.on_config)
        # what the node's other agents do for its Node (flannel.1) or a pod wired here (cni0
        # on the first) may give it an address, which the proxier sees at its next sync
        self.follow(self.api.watch("Node", node=self.node, replay=False), self.on_local)
        self.follow(self.api.watch("Pod", node=self.node, replay=False), self.on_local)
        self.sync()

    async def stop(self) -> None:
        for key in list(self.health.instances):
            self.health.sync_service(key, None, 0)
        self.health.close_healthz()
        await super().stop()

    def on_change(self, event: Event) -> None:
        self.sync()

    def on_config(self, event: Event) -> None:
        """kube-proxy restarted with new options: strictARP sets the two sysctls (and a
        restart without it leaves them as they are, as the proxier never resets them)."""
        if event.type != "DELETED" and event.object.strict_arp:
            self.ns.sysctl.update(STRICT_ARP)

    def on_local(self, event: Event) -> None:
        self.sync_if_addresses_changed()

    def drain(self) -> None:
        """Catch up now (a node built on demand); its pods were wired without an event."""
        super().drain()
        self.sync_if_addresses_changed()

    def sync_if_addresses_changed(self) -> None:
        """The proxier lists the node's addresses on every sync (its periodic one too), so a
        NodePort comes to listen on an address the node gained since."""
        if self.node_addresses() != self.synced_addresses:
            self.sync()

    def node_addresses(self) -> list[IPv4Address]:
        """Where NodePorts listen: every address of the node but loopback and kube-ipvs0."""
        return [a.ip for a in self.ns.addresses if a.dev not in ("lo", DUMMY_DEVICE)]

    def sync(self) -> None:
        slices: dict[str, list] = {}
        for slice_ in self.api.list("EndpointSlice"):
            slices.setdefault(slice_.service, []).append(slice_)
        self.synced_addresses = self.node_addresses()
        state = node_state(self.api.list("Service"), slices, self.node, self.synced_addresses,
                           self.cluster_cidr)
        self._addresses(state.addresses)
        self._servers(state.servers)
        for name, members in state.sets.items():
            found = self.ns.ipsets.get(name)
            found.members.clear()
            for member in members:
                found.add(member)
        self._rules(state.rules)
        services = {s.key: s for s in self.api.list("Service")}
        for key in sorted(services.keys() | self.health.instances.keys()):
            self.health.sync_from(key, services.get(key), slices.get(key, []))
        if len(self.ns.conntrack):   # CleanStaleEntries
            StaleUdp(self.api.list("Service"), slices).clean(self.ns.conntrack)

    def _addresses(self, wanted: list[IPv4Address]) -> None:
        ns = self.ns
        held = {a.ip for a in ns.addresses if a.dev == DUMMY_DEVICE}
        for address in held - set(wanted):
            ns.remove_address(DUMMY_DEVICE, f"{address}/32")
        for address in wanted:
            if address not in held:
                ns.add_address(DUMMY_DEVICE, f"{address}/32")

    def _servers(self, wanted: list[VirtualServer]) -> None:
        ipvs = self.ns.ipvs
        keys = {(s.proto, s.address, s.port) for s in wanted}
        for service in [s for s in ipvs.services.values() if s.key not in keys]:
            ipvs.delete_service(service)
        for server in wanted:
            service = ipvs.service(server.proto, server.address, server.port)
            if service is None:
                service = ipvs.add_service(server.proto, server.address, server.port,
                                           persistent=server.persistent)
            service.persistent = server.persistent
            for dest in [d for d in service.dests
                         if (d.address, d.port) not in server.reals]:
                ipvs.delete_dest(service, dest)
            for address, port in server.reals:
                if service.dest(address, port) is None:
                    ipvs.add_dest(service, address, port)

    def _rules(self, rules) -> None:
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
            stale = self.owned[table] - set(chains)
            for chain in stale:
                nf.iptables(f"-t {table} -F {chain}")
            for chain in stale:
                nf.iptables(f"-t {table} -X {chain}")
            self.owned[table] = set(chains)
        for table, chain, rule in BASE_JUMPS:
            try:
                nf.iptables(f"-t {table} -C {chain} {rule}")
            except ValueError:
                nf.iptables(f"-t {table} -I {chain} 1 {rule}")
