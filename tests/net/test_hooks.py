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


def test_each_hook_runs_its_entries_by_kernel_priority():
    world = client_router_server()
    router = world.namespace("router")
    assert router.hooks.names("PREROUTING") == [
        "iptables raw", "conntrack", "iptables mangle", "nat dst"]
    assert router.hooks.names("INPUT") == [
        "iptables mangle", "iptables filter", "nat src", "conntrack confirm"]
    assert router.hooks.names("OUTPUT") == [
        "iptables raw", "conntrack", "iptables mangle", "nat dst", "iptables filter"]
    router.load_ipvs()
    assert router.hooks.names("INPUT") == [
        "iptables mangle", "iptables filter", "ipvs reply", "ipvs request", "nat src",
        "conntrack confirm"]
    assert router.hooks.names("OUTPUT")[3:6] == ["nat dst", "ipvs local reply",
                                                 "ipvs local request"]
    assert "ipvs reply" not in world.namespace("client").hooks.names("INPUT")


def test_a_hook_registered_at_a_priority_runs_in_its_place():
    world = client_router_server()
    router = world.namespace("router")
    seen = []

    def policy_queue(walk, ns, flight, hook, in_dev, out_dev):
        seen.append((hook, [h.event for h in walk.trace.hops if h.where == ns.name]))

    router.register_hook("FORWARD", -10, "policy queue", policy_queue)
    mark_everything(router)
    world.send("client", "192.168.2.2", "tcp", 80)
    hook, before = seen[0]
    assert hook == "FORWARD" and before[-2:] == ["forward", "netfilter"]  # after mangle
    assert world.namespace("client").hooks.names("FORWARD") == [
        "iptables mangle", "iptables filter"]


def test_raw_runs_before_conntrack_so_notrack_keeps_the_packet_out_of_it():
    """The kernel runs raw at -300 and conntrack at -200: a NOTRACK rule in raw
    PREROUTING leaves the packet untracked, so nat never sees it and no entry is made."""
    world = client_router_server()
    router = world.namespace("router")
    router.netfilter.iptables("-t nat -A POSTROUTING -o wan -j MASQUERADE")
    router.netfilter.iptables("-t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK")
    router.netfilter.iptables("-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT")
    trace = world.send("client", "192.168.2.2", "tcp", 80, owner="curl")
    assert trace.verdict == "delivered"
    assert trace.delivered_packet.src == A("192.168.1.2")  # not masqueraded
    events = [(h.event, h.table) for h in trace.hops if h.where == "router"]
    assert ("conntrack", None) not in events and ("nat", None) not in events
    raw = next(h for h in trace.hops if h.where == "router" and h.table == "raw")
    assert raw.detail.endswith("the packet is marked untracked")
    accept = next(h for h in trace.hops if h.where == "router" and h.table == "filter")
    assert accept.rule == "-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT"
    assert router.conntrack.listing() == ""
    # a flow the rule does not cover is tracked and masqueraded as before
    other = world.send("client", "192.168.2.2", "udp", 53, owner="dig")
    arrived = next(h for h in other.hops if h.where == "server")
    assert arrived.packet_before.src == A("192.168.2.1")
    assert "udp" in router.conntrack.listing()


def test_ct_notrack_in_raw_output_and_what_conntrack_sees_first():
    world = client_router_server()
    router = world.namespace("router")
    router.force_conntrack = True
    # before conntrack, raw sees no entry: --ctstate reads it as INVALID, never NEW
    router.netfilter.iptables("-t raw -A OUTPUT -m conntrack --ctstate NEW -j MARK "
                              "--set-mark 0x1")
    router.netfilter.iptables("-t raw -A OUTPUT -p tcp -j CT --notrack")
    trace = world.send("router", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "delivered"
    raw = next(h for h in trace.hops if h.table == "raw")
    assert raw.matched_rules == ["-A OUTPUT -p tcp -j CT --notrack"]
    assert not trace.events("conntrack") and len(router.conntrack) == 0
    tracked = world.send("router", "192.168.2.2", "udp", 53)
    assert tracked.events("conntrack")
    assert [h.event for h in tracked.hops[:3]] == ["route", "netfilter", "conntrack"]


def test_hops_keep_the_frames_macs_and_the_lab_time():
    world = client_router_server()
    world.advance(12.5)
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    client, router = world.namespace("client"), world.namespace("router")
    sent = next(h for h in trace.hops if h.event == "xmit" and h.where == "client")
    assert (sent.src_mac, sent.dst_mac) == (client.device("eth0").mac,
                                            router.device("lan").mac)
    got = next(h for h in trace.hops if h.event == "recv" and h.where == "router")
    assert (got.src_mac, got.dst_mac) == (sent.src_mac, sent.dst_mac)
    onward = next(h for h in trace.hops if h.event == "xmit" and h.where == "router")
    assert onward.src_mac == router.device("wan").mac
    assert trace.hops[0].src_mac is None  # a packet made here has no frame yet
    assert {h.time for h in trace.hops} == {12.5}
    data = onward.to_dict()
    assert (data["src_mac"], data["dst_mac"], data["time"]) == (
        onward.src_mac, onward.dst_mac, 12.5)


def test_a_registered_hook_can_end_the_walk_with_its_verdict():
    from playground.net.walk.context import END

    world = client_router_server()

    def deny(walk, ns, flight, hook, in_dev, out_dev):
        walk.hop(ns, flight, "drop", "a policy engine denies the flow", dev_in=in_dev)
        walk.finish("dropped", f"denied in {ns.name}", flight)
        return END

    world.namespace("router").register_hook("FORWARD", 10, "policy", deny)
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "dropped" and trace.reason == "denied in router"
    assert trace.hops[-1].detail == "a policy engine denies the flow"
    assert "server" not in trace.path()
