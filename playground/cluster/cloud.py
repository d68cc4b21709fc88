"""The world outside the cluster: the VPC's internet gateway, the internet, a cloud load balancer.

This module is the address plan and the machines; the cloud's controller, which programs
them (public node IPs, a load balancer per Service), is the `cloud` load-balancer provider
in playground/lb/cloud.py.

All public addresses come from the documentation ranges (RFC 5737), so nothing here can
be mistaken for a real host.

- `vpc-gateway` (172.18.0.1 on the node network, 203.0.113.1 on the internet) translates
  each node's private IP to a public one, both ways, as a cloud's internet gateway does.
- `internet` (203.0.113.100) is a host out there, running a web server on 80 and 443, and
  at 203.0.113.53 the resolver the nodes' /etc/resolv.conf names (DNS on 53, UDP and TCP).
- `cloud-lb` (172.18.255.254 inside, 203.0.113.2 outside) owns nothing but routes: each
  LoadBalancer IP (198.51.100.0/24) is a multipath route to the nodes, picked per flow by
  hash, the way pass-through cloud load balancers deliver packets with the LB IP intact.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from playground.net.link import Ethernet, stable_mac
from playground.net.network import Network
from playground.net.route import Route

INTERNET = IPv4Network("203.0.113.0/24")
GATEWAY_PUBLIC = IPv4Address("203.0.113.1")
LB_OUTSIDE = IPv4Address("203.0.113.2")
LB_INSIDE = IPv4Address("172.18.255.254")
PUBLIC_NODE_IPS = [INTERNET.network_address + n for n in range(10, 100)]
INTERNET_HOST = IPv4Address("203.0.113.100")
RESOLVER = IPv4Address("203.0.113.53")
LB_POOL = IPv4Network("198.51.100.0/24")
LB_POOL_FIRST = 10
INTERNET_SEGMENT = "internet"
GATEWAY_NAMESPACE, LB_NAMESPACE, INTERNET_NAMESPACE = "vpc-gateway", "cloud-lb", "internet"


def _leg(network: Network, ns, name: str, segment: str, cidr: str) -> None:
    device = Ethernet(name, stable_mac(f"{ns.name}/{name}"))
    ns.add_device(device)
    network.segment(segment).attach(device)
    ns.add_address(name, cidr)


def build_outside(network: Network, node_segment: str, node_network: IPv4Network) -> None:
    gateway = network.namespace(GATEWAY_NAMESPACE)
    _leg(network, gateway, "eth1", INTERNET_SEGMENT, f"{GATEWAY_PUBLIC}/{INTERNET.prefixlen}")
    gateway.add_route(Route(LB_POOL, dev="eth1", via=LB_OUTSIDE))

    host = network.add_namespace(INTERNET_NAMESPACE)
    _leg(network, host, "eth0", INTERNET_SEGMENT, f"{INTERNET_HOST}/{INTERNET.prefixlen}")
    host.add_route(Route(LB_POOL, dev="eth0", via=LB_OUTSIDE))
    host.bind("tcp", 80, "www")
    host.bind("tcp", 443, "www")
    host.add_address("eth0", f"{RESOLVER}/{INTERNET.prefixlen}")
    for proto in ("udp", "tcp"):
        host.bind(proto, 53, "resolver", RESOLVER)

    balancer = network.add_namespace(LB_NAMESPACE)
    _leg(network, balancer, "eth1", INTERNET_SEGMENT, f"{LB_OUTSIDE}/{INTERNET.prefixlen}")
    _leg(network, balancer, "eth0", node_segment, f"{LB_INSIDE}/{node_network.prefixlen}")
    balancer.sysctl["net.ipv4.ip_forward"] = "1"
    balancer.sysctl["net.ipv4.fib_multipath_hash_policy"] = "1"
