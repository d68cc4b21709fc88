from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from playground.net.network import Network
from playground.net.route import Route

DATA = Path(__file__).parent / "data"
A = IPv4Address


def client_router_server() -> Network:
    """client 192.168.1.2 -- router -- server 192.168.2.2 (tcp 80, udp 53 listening)."""
    world = Network(seed=5)
    client, router, server = (world.add_namespace(n) for n in ("client", "router", "server"))
    world.add_veth(client, "eth0", router, "lan")
    world.add_veth(router, "wan", server, "eth0")
    client.add_address("eth0", "192.168.1.2/24")
    router.add_address("lan", "192.168.1.1/24")
    router.add_address("wan", "192.168.2.1/24")
    server.add_address("eth0", "192.168.2.2/24")
    server.add_address("eth0", "192.168.2.3/24")
    router.sysctl["net.ipv4.ip_forward"] = "1"
    client.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("192.168.1.1")))
    server.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("192.168.2.1")))
    server.bind("tcp", 80, "httpd")
    server.bind("udp", 53, "dns")
    router.bind("tcp", 22, "sshd")
    return world


@pytest.fixture
def world() -> Network:
    return client_router_server()


@pytest.fixture
def kube_proxy_rules() -> str:
    return (DATA / "kube_proxy_overall.nft").read_text()


@pytest.fixture
def new_world():
    """For a test that needs two worlds side by side."""
    return client_router_server
