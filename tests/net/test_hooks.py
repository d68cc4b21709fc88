"""Netfilter inside the walk: hook order, NAT through conntrack, verdicts and counters."""

from ipaddress import IPv4Address, IPv4Network

from playground.net.network import Network
from playground.net.route import Route

A = IPv4Address
CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}


def client_router_server():
    """client 192.168.1.2 -- router -- server 192.168.2.2 (listening on tcp 80)."""
    world = Network(seed=3)
    client, router, server = (world.add_namespace(n) for n in ("client", "router", "server"))
    world.add_veth(client, "eth0", router, "lan")
    world.add_veth(router, "wan", server, "eth0")
    client.add_address("eth0", "192.168.1.2/24")
    router.add_address("lan", "192.168.1.1/24")
    router.add_address("wan", "192.168.2.1/24")
    server.add_address("eth0", "192.168.2.2/24")
    router.sysctl["net.ipv4.ip_forward"] = "1"
    client.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("192.168.1.1")))
    server.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("192.168.2.1")))
    server.bind("tcp", 80, "httpd")
    router.bind("tcp", 22, "sshd")
    return world


def mark_everything(ns) -> None:
    for table, chains in CHAINS.items():
        for chain in chains:
            ns.netfilter.iptables(f"-t {table} -A {chain} -j MARK --or-mark 0x1")
    ns.force_conntrack = True


def hooks_seen(trace, where):
    return [(h.table, h.chain) for h in trace.hops if h.where == where and h.event == "netfilter"]


def test_forwarded_packet_hook_order():
    world = client_router_server()
    mark_everything(world.namespace("router"))
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "delivered"
    assert hooks_seen(trace, "router") == [
        ("raw", "PREROUTING"), ("mangle", "PREROUTING"), ("nat", "PREROUTING"),
        ("mangle", "FORWARD"), ("filter", "FORWARD"),
        ("mangle", "POSTROUTING"), ("nat", "POSTROUTING"),
    ]


def test_locally_generated_packet_hook_order():
    world = client_router_server()
    mark_everything(world.namespace("router"))
    trace = world.send("router", "192.168.2.2", "tcp", 80)
    assert hooks_seen(trace, "router") == [
        ("raw", "OUTPUT"), ("mangle", "OUTPUT"), ("nat", "OUTPUT"), ("filter", "OUTPUT"),
        ("mangle", "POSTROUTING"), ("nat", "POSTROUTING"),
    ]


def test_delivered_packet_hook_order():
    world = client_router_server()
    mark_everything(world.namespace("router"))
    trace = world.send("client", "192.168.1.1", "tcp", 22)
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "sshd"
    assert hooks_seen(trace, "router") == [
        ("raw", "PREROUTING"), ("mangle", "PREROUTING"), ("nat", "PREROUTING"),
        ("mangle", "INPUT"), ("filter", "INPUT"), ("nat", "INPUT"),
    ]


def test_nat_table_is_walked_only_by_the_first_packet_of_a_flow():
    world = client_router_server()
    mark_everything(world.namespace("router"))
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    reply = world.reply(trace)
    seen = hooks_seen(reply, "router")
    assert ("nat", "PREROUTING") not in seen and ("nat", "POSTROUTING") not in seen
    assert ("filter", "FORWARD") in seen


def test_dnat_rewrites_the_destination_and_conntrack_undoes_it_on_the_reply():
    world = client_router_server()
    router = world.namespace("router")
    router.netfilter.iptables("-t nat -A PREROUTING -d 192.168.1.1/32 -p tcp --dport 8080 "
                              "-j DNAT --to-destination 192.168.2.2:80")
    trace = world.send("client", "192.168.1.1", "tcp", 8080, owner="curl")
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "httpd"
    nat_hop = next(h for h in trace.hops if h.event == "netfilter" and h.table == "nat")
    assert (nat_hop.packet_before.dst, nat_hop.packet_before.dport) == (A("192.168.1.1"), 8080)
    assert (nat_hop.packet_after.dst, nat_hop.packet_after.dport) == (A("192.168.2.2"), 80)
    assert "DNAT --to-destination 192.168.2.2:80" in nat_hop.rule
    reply = world.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.owner == "curl"
    undo = reply.events("nat")[0]
    assert (undo.packet_after.src, undo.packet_after.sport) == (A("192.168.1.1"), 8080)
    entry = router.conntrack.listing()
    assert "dst=192.168.1.1 sport=" in entry and "src=192.168.2.2" in entry


def test_masquerade_hides_the_client_behind_the_router():
    world = client_router_server()
    router = world.namespace("router")
    router.netfilter.iptables("-t nat -A POSTROUTING -o wan -j MASQUERADE")
    trace = world.send("client", "192.168.2.2", "tcp", 80, owner="curl")
    assert trace.delivered_packet.src == A("192.168.2.1")
    reply = world.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.owner == "curl"
    assert reply.delivered_packet.dst == A("192.168.1.2")


def test_filter_drop_and_counters():
    world = client_router_server()
    router = world.namespace("router")
    router.netfilter.iptables("-A FORWARD -p tcp --dport 80 -j DROP")
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "dropped" and "filter/FORWARD" in trace.reason
    rule = router.netfilter.chain("filter", "FORWARD").rules[0]
    assert (rule.packets, rule.bytes) == (1, 60)
    assert "[1:60] -A FORWARD -p tcp -m tcp --dport 80 -j DROP" in router.netfilter.save(
        counters=True)


def test_reject_sends_port_unreachable_from_the_router():
    world = client_router_server()
    world.namespace("router").netfilter.iptables("-A FORWARD -j REJECT")
    trace = world.send("client", "192.168.2.2", "udp", 53)
    assert trace.verdict == "rejected"
    error = [h for h in trace.hops if h.role == "error" and h.event == "deliver"][0]
    assert error.where == "client"
    assert error.packet_before.src == A("192.168.1.1")
    assert error.packet_before.icmp_code == 3


def test_mark_survives_within_a_namespace_and_is_matched_later():
    world = client_router_server()
    router = world.namespace("router")
    router.netfilter.iptables("-t mangle -A PREROUTING -p tcp --dport 80 "
                              "-j MARK --set-xmark 0x4000/0x4000")
    router.netfilter.iptables("-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP")
    assert world.send("client", "192.168.2.2", "tcp", 80).verdict == "dropped"
    assert world.send("client", "192.168.2.2", "udp", 53).verdict == "rejected"
