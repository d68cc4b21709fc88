"""kube-proxy's conntrack housekeeping after a sync (pkg/proxy/conntrack/cleanup.go,
CleanStaleEntries): a UDP flow has no end, so every UDP entry for a Service IP or NodePort
whose reply does not come from one of the Service port's serving endpoints is deleted
(endpoints gone, or a Service that had none and so kept the packets of its callers)."""

from __future__ import annotations

from ipaddress import IPv4Address

from playground.cluster.service import EndpointSlice, Service
from playground.net.conntrack import Conntrack


class StaleUdp:
    """Service IPs and NodePorts of UDP Service ports, each with its serving endpoints."""

    def __init__(self, services: list[Service], slices: dict[str, list[EndpointSlice]]) -> None:
        self.by_ip: dict[IPv4Address, set[IPv4Address]] = {}
        self.by_node_port: dict[int, set[IPv4Address]] = {}
        # kube-proxy walks a map: a second UDP port of one IP overwrites the first's set;
        # here the order is the Services' keys, then the ports'
        for service in sorted(services, key=lambda s: s.key):
            spec = service.spec
            if spec.cluster_ip in (None, "", "None"):
                continue
            for port in spec.ports:
                if port.protocol != "UDP":
                    continue
                serving = {IPv4Address(e.address) for s in slices.get(service.key, [])
                           if any(p.name == port.name and p.protocol == port.protocol
                                  for p in s.ports)
                           for e in s.endpoints if e.serving}
                addresses = [spec.cluster_ip, *service.vip_load_balancer_ips,
                             *getattr(spec, "external_ips", [])]
                for address in addresses:
                    self.by_ip[IPv4Address(address)] = serving
                if port.node_port:
                    self.by_node_port[port.node_port] = serving

    def clean(self, table: Conntrack) -> int:
        """Delete what the filters kube-proxy builds match (--orig-dst and --reply-src, or
        --orig-port-dst and --reply-src, protocol UDP); returns how many went."""
        filters_ip, filters_port = set(), set()
        for entry in table.entries:
            if entry.original.proto != "udp":
                continue
            dst, port, source = entry.original.dst, entry.original.dport, entry.reply.src
            if dst in self.by_ip and source not in self.by_ip[dst]:
                filters_ip.add((dst, source))
            if port in self.by_node_port and source not in self.by_node_port[port]:
                filters_port.add((port, source))
        doomed = [e for e in table.entries if e.original.proto == "udp" and (
            (e.original.dst, e.reply.src) in filters_ip
            or (e.original.dport, e.reply.src) in filters_port)]
        for entry in doomed:
            table.remove(entry)
        return len(doomed)


def clean_after_sync(proxies: dict, services: dict[str, Service],
                     slices: dict[str, dict], udp_keys: set[str]) -> None:
    """CleanStaleEntries on every node after a sync (only where there are flows), for the
    Services with a UDP port: only their ports are read."""
    if not Conntrack.holding:
        return   # no flow anywhere: nothing to look for on any of the nodes
    tables = [proxy.ns.conntrack for _, proxy in sorted(proxies.items())
              if len(proxy.ns.conntrack)]
    if not tables:
        return
    keys = sorted(udp_keys)
    stale = StaleUdp([services[key] for key in keys],
                     {key: list(slices.get(key, {}).values()) for key in keys})
    for table in tables:
        stale.clean(table)
