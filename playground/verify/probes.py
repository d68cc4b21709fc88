"""What verify sends: every pod to every pod and to every Service port (twice in a row where
the Service has session affinity), each node to each Service port, each node and pod to every
NodePort on its own node and on the next one, each node and pod to every hostPort, each pod
and node to every LoadBalancer IP, each node to its NodePorts on 127.0.0.1 and to every
node's health check node port, the internet host to every NodePort and LoadBalancer IP,
each pod and node to every external IP, every pod out to the internet; a load balancer that
is a proxy (ipMode Proxy) from its own address to every node's NodePort and health check;
the internet host to every Gateway address's listener ports, and a Gateway's own machine on
the node network (cloud-provider-kind's Envoy) to every Service port's ClusterIP. The list
is read from the lab, so a manifest's Services are probed too."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

import dns.name
import dns.rcode
import dns.rdatatype

from playground.cluster.cloud import INTERNET_HOST, INTERNET_NAMESPACE
from playground.cluster.cluster import SEGMENT, Cluster
from playground.cluster.controllers.kubelet import node_namespace_name, pod_namespace_name
from playground.cluster.gateway.status import gateway_view

KUBE_PROXY_HEALTHZ = 10256   # kube-proxy's own /healthz
FIRST_SOURCE_PORT = 40000  # one source port per probe, so no two flows share a tuple


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str
    source: str  # the model namespace it starts in
    source_label: str
    target_label: str
    dst: IPv4Address
    proto: str
    dport: int
    sport: int
    question: str = ""  # a DNS probe's name (an A query to the kube-dns Service)
    answer: str = ""  # what the model's CoreDNS answers it: the status and the addresses

    @property
    def label(self) -> str:
        again = " (again)" if self.kind.endswith(" again") else ""
        return f"{self.source_label} → {self.target_label} {self.proto}/{self.dport}{again}"


def probes(cluster: Cluster) -> list[Probe]:
    found: list[tuple] = []
    pods = sorted((p for p in cluster.pods() if p.status.pod_ip), key=lambda p: p.key)
    for src in pods:
        for dst in pods:
            if dst is not src:
                proto, port = _first_port(dst)
                found.append(("pod→pod", pod_namespace_name(src), f"pod/{src.key}",
                              f"pod/{dst.key}", dst.status.pod_ip, proto, port))
    services = sorted(cluster.services(), key=lambda s: s.key)
    service_ports = [(s, p) for s in services for p in s.spec.ports if s.proxied]
    for src in pods:
        for service, port in service_ports:
            probe = ("pod→svc", pod_namespace_name(src), f"pod/{src.key}",
                     f"svc/{service.key}", service.spec.cluster_ip, port.protocol.lower(),
                     port.port)
            found.append(probe)
            if service.spec.session_affinity == "ClientIP":
                # right after the first: the same client must reach the same endpoint
                found.append(("pod→svc again", *probe[1:]))
    nodes = sorted(cluster.nodes(), key=lambda n: n.name)
    for node in nodes:
        for service, port in service_ports:
            found.append(("node→svc", node_namespace_name(node.name), f"node/{node.name}",
                          f"svc/{service.key}", service.spec.cluster_ip,
                          port.protocol.lower(), port.port))
    for service, port in service_ports:
        for node in nodes:
            if port.node_port and node.status.external_ip:
                found.append(("outside→nodeport", INTERNET_NAMESPACE, "internet",
                              f"node/{node.name}({service.key})", node.status.external_ip,
                              port.protocol.lower(), port.node_port))
        for address in service.status.load_balancer_ips:
            found.append(("outside→lb", INTERNET_NAMESPACE, "internet", f"lb/{service.key}",
                          address, port.protocol.lower(), port.port))
    for service in services:
        served = {p.port for p in service.spec.ports if p.protocol == "TCP"}
        unserved = next(port for port in range(81, 65536) if port not in served)
        for address in service.status.load_balancer_ips:  # the load balancer drops it
            found.append(("outside→lb unserved", INTERNET_NAMESPACE, "internet",
                          f"lb/{service.key}", address, "tcp", unserved))
    found += _nodeports_from_inside(pods, nodes, service_ports)
    found += _host_ports(pods, nodes)
    found += _proxy_legs(cluster, nodes, services)
    found += _gateway_legs(cluster, service_ports)
    found += _node_only(nodes, services, service_ports)
    for src in pods:
        for service, port in service_ports:
            for address in service.status.load_balancer_ips:
                found.append(("pod→lb", pod_namespace_name(src), f"pod/{src.key}",
                              f"lb/{service.key}", address, port.protocol.lower(), port.port))
    for kind, source, label in [("pod→externalIP", pod_namespace_name(p), f"pod/{p.key}")
                                for p in pods] + [("node→externalIP",
                                                   node_namespace_name(n.name), f"node/{n.name}")
                                                  for n in nodes]:
        for service, port in service_ports:
            for address in service.spec.external_ips:
                found.append((kind, source, label, f"externalIP/{service.key}", address,
                              port.protocol.lower(), port.port))
    internet_port = next(s.port for s in cluster.network.namespace(INTERNET_NAMESPACE).sockets
                         if s.proto == "tcp")
    for src in pods:
        found.append(("pod→internet", pod_namespace_name(src), f"pod/{src.key}", "internet",
                      INTERNET_HOST, "tcp", internet_port))
    made = [Probe(kind, source, source_label, target_label, IPv4Address(dst), proto, port,
                  FIRST_SOURCE_PORT + index)
            for index, (kind, source, source_label, target_label, dst, proto, port)
            in enumerate(found)]
    return made + _dns_probes(cluster, pods, FIRST_SOURCE_PORT + len(made))


def _dns_probes(cluster: Cluster, pods, first_port: int) -> list[Probe]:
    """Every pod asks kube-dns for every Service's name and for one that is not there, over
    UDP, and for the first name again over TCP (kube-dns's dns-tcp port)."""
    kube_dns = cluster.api.peek("Service", "kube-system", "kube-dns")
    if kube_dns is None or not kube_dns.spec.cluster_ip:
        return []
    names = [f"{s.metadata.name}.{s.metadata.namespace}.svc.cluster.local."
             for s in sorted(cluster.services(), key=lambda s: s.key)]
    names.append("nope.default.svc.cluster.local.")
    found = []
    asked = [(name, "udp") for name in names] + [(names[0], "tcp")]
    for src in pods:
        for name, proto in asked:
            found.append(Probe("pod→dns", pod_namespace_name(src), f"pod/{src.key}",
                               f"dns {name}" + (" over tcp" if proto == "tcp" else ""),
                               IPv4Address(kube_dns.spec.cluster_ip), proto, 53,
                               first_port + len(found), name, model_answer(cluster, name)))
    return found


def model_answer(cluster: Cluster, name: str) -> str:
    """The model's CoreDNS answer to an A query, as the responder and the client write it."""
    lookup = cluster.coredns.kubernetes.serve(dns.name.from_text(name), dns.rdatatype.A)
    addresses = sorted(item.address for rrset in lookup.answer
                       if rrset.rdtype == dns.rdatatype.A for item in rrset)
    return " ".join([dns.rcode.to_text(lookup.rcode), *addresses])


def dns_records(found: list[Probe]) -> dict[str, str]:
    """What the responders in the coredns pods answer, by name."""
    return {probe.question: probe.answer for probe in found if probe.question}


def _nodeports_from_inside(pods, nodes, service_ports) -> list[tuple]:
    """Each node and each pod to every NodePort on its own node and on the next node (by
    name): one stays on the node, the other crosses the node network."""
    found = []
    by_name = {node.name: node for node in nodes}
    names = list(by_name)
    sources = [("node→nodeport", node_namespace_name(node.name), f"node/{node.name}",
                node.name) for node in nodes]
    sources += [("pod→nodeport", pod_namespace_name(pod), f"pod/{pod.key}", pod.spec.node_name)
                for pod in pods if pod.spec.node_name in by_name]
    for kind, source, label, home in sources:
        at = names.index(home)
        targets = [by_name[home]]
        if len(names) > 1:
            targets.append(by_name[names[(at + 1) % len(names)]])
        for service, port in service_ports:
            for node in targets:
                if port.node_port and node.status.internal_ip:
                    found.append((kind, source, label, f"node/{node.name}({service.key})",
                                  node.status.internal_ip, port.protocol.lower(),
                                  port.node_port))
    return found


def _host_ports(pods, nodes) -> list[tuple]:
    """Each node and pod to every hostPort a CNI's portmap forwards (the pod's own too: its
    hairpin is masqueraded), at its node's address or the hostIP it names."""
    found = []
    sources = [("node→hostport", node_namespace_name(node.name), f"node/{node.name}")
               for node in nodes]
    sources += [("pod→hostport", pod_namespace_name(pod), f"pod/{pod.key}") for pod in pods]
    for pod in pods:
        if pod.spec.host_network:
            continue   # its ports are the node's own: the pod→pod probes reach them
        for port in pod.host_ports():
            address = port.host_ip or pod.status.host_ip
            for kind, source, label in sources:
                found.append((kind, source, label, f"{address}:{port.host_port}(pod/{pod.key})",
                              address, port.protocol.lower(), port.host_port))
    return found


def _node_only(nodes, services, service_ports) -> list[tuple]:
    """What only a node sends: to its own NodePorts on 127.0.0.1 (route_localnet), to every
    LoadBalancer IP (source ranges must let the node's own traffic through when they hold
    its IP), and to every node's health check node port (the load balancer's question)."""
    found = []
    for node in nodes:
        source, label = node_namespace_name(node.name), f"node/{node.name}"
        for service, port in service_ports:
            if port.node_port:
                found.append(("node→localhost nodeport", source, label,
                              f"127.0.0.1({service.key})", "127.0.0.1",
                              port.protocol.lower(), port.node_port))
            for address in service.status.load_balancer_ips:
                found.append(("node→lb", source, label, f"lb/{service.key}", address,
                              port.protocol.lower(), port.port))
        for service in services:
            if service.spec.health_check_node_port:
                for target in nodes:
                    if target.status.internal_ip:
                        found.append(("node→healthcheck", source, label,
                                      f"node/{target.name}({service.key} health)",
                                      target.status.internal_ip, "tcp",
                                      service.spec.health_check_node_port))
    return found


def _proxy_legs(cluster: Cluster, nodes, services) -> list[tuple]:
    """A proxy's own connections, from the address it holds on the node network: to every
    node's NodePort of its Service and to the port its health checks ask (the Service's
    healthCheckNodePort, else kube-proxy's healthz)."""
    holders = {a.ip: device.namespace.name for device in cluster.network.segment(SEGMENT).devices
               if device.namespace is not None for a in device.namespace.addresses}
    found = []
    for service in services:
        if service.spec.type != "LoadBalancer" or service.status.load_balancer_ip_mode != "Proxy":
            continue
        sources = [holders[IPv4Address(a)] for a in service.status.load_balancer_ips
                   if IPv4Address(a) in holders]
        check = service.spec.health_check_node_port or KUBE_PROXY_HEALTHZ
        for source in sources:
            for node in nodes:
                if not node.status.internal_ip:
                    continue
                for port in service.spec.ports:
                    if port.node_port:
                        found.append(("proxy→nodeport", source, source,
                                      f"node/{node.name}({service.key})", node.status.internal_ip,
                                      port.protocol.lower(), port.node_port))
                found.append(("proxy→healthcheck", source, source,
                              f"node/{node.name}({service.key} health)",
                              node.status.internal_ip, "tcp", check))
    return found


def _gateway_legs(cluster: Cluster, service_ports) -> list[tuple]:
    """A Gateway's address from the internet on each listener port; where a machine of its
    own on the node network holds it (cloud-provider-kind's Envoy), that machine's own
    connections to every Service port's ClusterIP, as its Envoy opens them."""
    holders = {a.ip: device.namespace.name for device in cluster.network.segment(SEGMENT).devices
               if device.namespace is not None for a in device.namespace.addresses}
    found = []
    for gw in sorted(cluster.api.list("Gateway"), key=lambda g: g.key):
        addresses = gateway_view(cluster, gw).addresses
        for address in addresses:
            for port in sorted({lst.port for lst in gw.listeners}):
                found.append(("outside→gateway", INTERNET_NAMESPACE, "internet",
                              f"gw/{gw.key}", address, "tcp", port))
        for source in [holders[IPv4Address(a)] for a in addresses if IPv4Address(a) in holders]:
            for service, port in service_ports:
                if port.protocol == "TCP":
                    found.append(("gateway→svc", source, source, f"svc/{service.key}",
                                  service.spec.cluster_ip, "tcp", port.port))
    return found


def _first_port(pod) -> tuple[str, int]:
    for _container, port in pod.ports():
        return port.protocol.lower(), port.container_port
    return "tcp", 80  # nothing declared: the probe shows what a closed port does


def listeners(cluster: Cluster) -> dict[str, list[str]]:
    """Per model namespace, the sockets a responder must open there."""
    found = {}
    for ns in cluster.network.namespaces.values():
        specs = [f"{s.proto}:{s.address}:{s.port}" for s in ns.sockets
                 if s.remote is None and s.proto in ("tcp", "udp")]
        # a process that answers ARP for an address it does not own (a MetalLB speaker)
        specs += [f"arp:{ip}:{dev}" for ip, (dev, _who) in sorted(ns.arp_responders.items())]
        if specs:
            found[ns.name] = specs
    return found
