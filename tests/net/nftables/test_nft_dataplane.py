"""nftables in the walk: base chains at the hooks by priority beside iptables, vmap
dispatch, NAT through conntrack both ways, verdicts, sets updated from the packet path."""

from ipaddress import IPv4Address, IPv4Network

import pytest

from playground.net.network import Network
from playground.net.route import Route
from playground.net.walk.nf import NEW_HOOKS

SERVICE = """
add table ip lb
add chain ip lb pre { type nat hook prerouting priority dstnat ; }
add chain ip lb post { type nat hook postrouting priority srcnat ; }
add map ip lb services { type ipv4_addr . inet_proto . inet_service : verdict ; }
add chain ip lb svc
add chain ip lb ep-a
add chain ip lb ep-b
add rule ip lb pre ip daddr . meta l4proto . th dport vmap @services
add rule ip lb svc numgen random mod 2 vmap { 0 : goto ep-a, 1 : goto ep-b }
add rule ip lb ep-a meta l4proto tcp dnat to 192.168.2.2:80
add rule ip lb ep-b meta l4proto tcp dnat to 192.168.2.3:80
add rule ip lb post oifname "wan" masquerade
add element ip lb services { 192.168.1.1 . tcp . 8080 : goto svc }
"""


def nft_hops(trace, where="router"):
    return [h for h in trace.hops if h.where == where and h.event == "nftables"]


def test_a_vmap_finds_the_service_and_the_dnat_is_undone_on_the_reply(world):
    world.namespace("router").nft.run(SERVICE)
    trace = world.send("client", "192.168.1.1", "tcp", 8080)
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "httpd"
    dnat, masquerade = nft_hops(trace)
    assert dnat.map_entry.startswith("@services: 192.168.1.1 . tcp . 8080 : goto svc; { }: ")
    assert dnat.detail.endswith("→ dnat") and dnat.chain in ("ep-a", "ep-b")
    assert dnat.packet_after.dst == trace.delivered_packet.dst
    assert str(masquerade.packet_after.src) == "192.168.2.1"
    assert trace.delivered_packet.src == masquerade.packet_after.src
    reply = world.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "client"
    assert str(reply.delivered_packet.src) == "192.168.1.1"
    assert reply.delivered_packet.sport == 8080
    assert not nft_hops(reply), "nat chains see only a flow's first packet"


def test_numgen_spreads_flows_over_both_endpoints(world):
    world.namespace("router").nft.run(SERVICE)
    servers = {str(world.send("client", "192.168.1.1", "tcp", 8080).delivered_packet.dst)
               for _ in range(20)}
    assert servers == {"192.168.2.2", "192.168.2.3"}


def test_a_packet_no_element_matches_goes_on_untouched(world):
    world.namespace("router").nft.run(SERVICE)
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    pre = nft_hops(trace)[0]
    assert pre.detail.endswith("the pre policy → accept") and pre.map_entry is None
    assert not pre.rewrote and trace.verdict == "delivered"


def test_a_filter_chain_runs_by_priority_among_iptables_tables(world):
    router = world.namespace("router")
    router.netfilter.iptables("-t mangle -A FORWARD -j MARK --set-mark 0x1")
    router.netfilter.iptables("-A FORWARD -j ACCEPT")
    router.nft.run("""
add table inet f
add chain inet f early { type filter hook forward priority mangle - 10 ; }
add chain inet f late { type filter hook forward priority security ; }
add rule inet f early meta mark 0x0 counter
add rule inet f late meta mark 0x1 counter
""")
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    order = [(h.event, h.table) for h in trace.hops
             if h.where == "router" and h.event in ("netfilter", "nftables")]
    assert order == [("nftables", "inet f"), ("netfilter", "mangle"), ("netfilter", "filter"),
                     ("nftables", "inet f")]
    early, late = nft_hops(trace)
    assert early.chain == "early" and early.matched_rules == ["early: meta mark 0x00000000 "
                                                              "counter packets 1 bytes 60"]
    assert late.matched_rules[0].startswith("late: meta mark 0x00000001")


def test_iptables_nat_and_nftables_nat_share_one_decision(world):
    """At PREROUTING iptables' nat table (-100) and an nft nat chain at -100 + 5 are asked
    in order: the first that translates decides, the other is not asked."""
    router = world.namespace("router")
    router.netfilter.iptables("-t nat -A PREROUTING -p tcp --dport 8080 -j DNAT "
                              "--to-destination 192.168.2.2:80")
    router.nft.run("add table ip n\nadd chain ip n pre { type nat hook prerouting priority "
                   "dstnat + 5 ; }\nadd rule ip n pre tcp dport 8080 dnat to 192.168.2.3:80")
    trace = world.send("client", "192.168.1.1", "tcp", 8080)
    assert str(trace.delivered_packet.dst) == "192.168.2.2"
    assert not nft_hops(trace)
    router.netfilter.iptables("-t nat -F PREROUTING")
    trace = world.send("client", "192.168.1.1", "tcp", 8080)
    assert str(trace.delivered_packet.dst) == "192.168.2.3"
    assert nft_hops(trace)[0].detail.endswith("→ dnat")


def test_at_a_priority_tie_the_newest_filter_chain_runs_first(world):
    """nf_hook_entries_grow: an nft chain at priority filter runs before iptables' filter
    table (there since the namespace began), and of two nft chains the later first."""
    router = world.namespace("router")
    router.netfilter.iptables("-A FORWARD -j ACCEPT")
    router.nft.run("add table ip a\nadd chain ip a fwd { type filter hook forward priority "
                   "filter ; }\nadd table ip b\nadd chain ip b fwd { type filter hook forward "
                   "priority filter ; }")
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    order = [h.table for h in trace.hops
             if h.where == "router" and h.event in ("netfilter", "nftables")]
    assert order == ["ip b", "ip a", "filter"]


def test_at_a_priority_tie_the_newest_nat_chain_decides(world):
    """nf_hook_entries_grow puts a new chain before those of its priority: an nft nat
    chain at dstnat runs before iptables' nat table, and of two nft chains the later."""
    router = world.namespace("router")
    router.netfilter.iptables("-t nat -A PREROUTING -p tcp --dport 8080 -j DNAT "
                              "--to-destination 192.168.2.2:80")
    router.nft.run("add table ip n\nadd chain ip n pre { type nat hook prerouting priority "
                   "dstnat ; }\nadd rule ip n pre tcp dport 8080 dnat to 192.168.2.3:80")
    trace = world.send("client", "192.168.1.1", "tcp", 8080)
    assert str(trace.delivered_packet.dst) == "192.168.2.3"
    router.nft.run("add table ip m\nadd chain ip m pre { type nat hook prerouting priority "
                   "dstnat ; }\nadd rule ip m pre tcp dport 8080 dnat to 192.168.2.2:80")
    trace = world.send("client", "192.168.1.1", "tcp", 8080, sport=40001)
    assert str(trace.delivered_packet.dst) == "192.168.2.2"
    assert nft_hops(trace)[0].table == "ip m"


def test_drop_reject_and_queue_end_the_walk(world):
    router = world.namespace("router")
    router.nft.run("""
add table ip f
add chain ip f fwd { type filter hook forward priority 0 ; policy accept ; }
add rule ip f fwd tcp dport 81 drop
add rule ip f fwd tcp dport 82 reject with tcp reset
add rule ip f fwd tcp dport 83 reject
add rule ip f fwd tcp dport 84 queue num 3
""")
    assert world.send("client", "192.168.2.2", "tcp", 81).verdict == "dropped"
    reset = world.send("client", "192.168.2.2", "tcp", 82)
    assert reset.verdict == "rejected" and any("R" in (h.packet_after.flags or "")
                                               for h in reset.hops if h.role != "packet")
    icmp = world.send("client", "192.168.2.2", "tcp", 83)
    assert icmp.verdict == "rejected"
    assert any(h.packet_after.icmp_type == 3 and h.packet_after.icmp_code == 3
               for h in icmp.hops if h.role != "packet")
    queued = world.send("client", "192.168.2.2", "tcp", 84)
    assert queued.verdict == "dropped" and "queued to 3" in queued.reason


def test_a_drop_policy_drops_what_no_rule_accepts(world):
    world.namespace("router").nft.run("""
add table ip f
add chain ip f fwd { type filter hook forward priority 0 ; policy drop ; }
add rule ip f fwd tcp dport 80 accept
""")
    assert world.send("client", "192.168.2.2", "tcp", 80).verdict == "delivered"
    trace = world.send("client", "192.168.2.2", "udp", 53)
    assert trace.verdict == "dropped" and nft_hops(trace)[0].rule == "policy drop"


def test_ct_state_sees_the_reply_as_established(world):
    world.namespace("router").nft.run("""
add table ip f
add chain ip f fwd { type filter hook forward priority 0 ; policy drop ; }
add rule ip f fwd ct state established,related accept
add rule ip f fwd ct state new iifname "lan" accept
""")
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "delivered"
    reply = world.reply(trace)
    assert reply.verdict == "delivered"
    assert nft_hops(reply)[0].matched_rules == ["fwd: ct state established,related accept"]
    assert world.send("server", "192.168.1.2", "tcp", 80).verdict == "dropped"


def test_an_affinity_set_remembers_the_client_until_its_timeout(world):
    router = world.namespace("router")
    router.nft.run("""
add table ip a
add set ip a seen { type ipv4_addr ; flags dynamic,timeout ; timeout 10s ; }
add chain ip a fwd { type filter hook forward priority 0 ; }
add rule ip a fwd ip saddr @seen counter
add rule ip a fwd update @seen { ip saddr }
""")
    first = nft_hops(world.send("client", "192.168.2.2", "tcp", 80))[0]
    assert first.map_entry is None
    listing = router.nft.list(["set", "ip", "a", "seen"])
    assert "elements = { 192.168.1.2 expires 10s }" in listing
    world.advance(4)
    second = nft_hops(world.send("client", "192.168.2.2", "tcp", 80))[0]
    assert second.map_entry == "@seen: 192.168.1.2 expires 6s"
    world.advance(10.5)
    assert "elements" not in router.nft.list(["set", "ip", "a", "seen"])
    assert nft_hops(world.send("client", "192.168.2.2", "tcp", 80))[0].map_entry is None


def test_fib_daddr_type_local_tells_the_node_apart(world):
    world.namespace("router").nft.run("""
add table ip f
add chain ip f in { type filter hook input priority 0 ; }
add chain ip f fwd { type filter hook forward priority 0 ; }
add rule ip f in fib daddr type local counter
add rule ip f fwd fib daddr type local counter
""")
    to_router = nft_hops(world.send("client", "192.168.1.1", "tcp", 22))[0]
    through = nft_hops(world.send("client", "192.168.2.2", "tcp", 80))[0]
    assert to_router.matched_rules and not through.matched_rules


def test_deleting_the_table_takes_its_chains_off_the_hooks(world):
    router = world.namespace("router")
    router.nft.run("add table ip f\nadd chain ip f fwd { type filter hook forward priority 0 "
                   "; policy drop ; }")
    assert "nft ip f fwd" in router.hooks.names("FORWARD")
    router.nft.run("delete table ip f")
    assert "nft ip f fwd" not in router.hooks.names("FORWARD")
    assert world.send("client", "192.168.2.2", "tcp", 80).verdict == "delivered"
    assert NEW_HOOKS.names("FORWARD") == router.hooks.names("FORWARD")


def test_the_kube_proxy_ruleset_loads_and_sends_a_cluster_ip_to_its_endpoint(
        kube_proxy_rules):
    world = Network(seed=2)
    pod, node, endpoint = (world.add_namespace(n) for n in ("pod", "node", "endpoint"))
    world.add_veth(pod, "eth0", node, "veth-pod")
    world.add_veth(node, "veth-ep", endpoint, "eth0")
    pod.add_address("eth0", "10.180.0.9/24")
    node.add_address("veth-pod", "10.180.0.254/24")
    node.add_address("veth-ep", "10.181.0.254/16")
    endpoint.add_address("eth0", "10.180.0.1/32")
    pod.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=IPv4Address("10.180.0.254")))
    node.add_route(Route(IPv4Network("10.180.0.1/32"), dev="veth-ep", scope="link"))
    node.add_route(Route(IPv4Network("0.0.0.0/0"), dev="veth-ep", scope="link"))
    endpoint.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", onlink=True,
                             via=IPv4Address("10.181.0.254")))
    node.sysctl["net.ipv4.ip_forward"] = "1"
    endpoint.bind("tcp", 80, "web")
    node.nft.run(kube_proxy_rules)
    trace = world.send("pod", "172.30.0.41", "tcp", 80)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "endpoint"
    dnat = next(h for h in trace.hops if h.event == "nftables" and h.rewrote)
    assert dnat.chain == "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    assert dnat.map_entry.split("; ")[0] == (
        "@service-ips: 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80")
    unallocated = world.send("pod", "172.30.0.50", "tcp", 80)
    assert unallocated.verdict == "dropped" and "cluster-ips-check" in unallocated.reason
    wrong_port = world.send("pod", "172.30.0.41", "tcp", 443)
    assert wrong_port.verdict == "rejected"
    no_endpoints = world.send("pod", "172.30.0.46", "tcp", 80)
    assert no_endpoints.verdict == "rejected" and "reject-chain" in no_endpoints.reason


@pytest.mark.parametrize("text, why", [
    ("add chain ip t c { type nat hook forward priority 0 ; }",
     "Could not process rule: Operation not supported"),
    ("add rule ip t c2 dnat to 1.2.3.4", "Could not process rule: Operation not supported"),
])
def test_what_the_kernel_refuses_changes_nothing(world, text, why):
    router = world.namespace("router")
    router.nft.run("add table ip t\nadd chain ip t c2 { type filter hook input priority 0 ; }")
    before = router.nft.list_ruleset()
    with pytest.raises(ValueError, match=why):
        router.nft.run(text)
    assert router.nft.list_ruleset() == before


def test_every_nftables_hop_tells_the_truth(world):
    """A hop that says it translated shows the change; every other nftables hop none; and
    consecutive hops of one packet agree (issue 15's rule, over a NAT flow and its reply)."""
    world.namespace("router").nft.run(SERVICE)
    for _ in range(4):
        trace = world.send("client", "192.168.1.1", "tcp", 8080)
        for reply_of in (trace, world.reply(trace)):
            last = None
            for hop in reply_of.hops:
                if hop.event == "nftables":
                    translating = hop.detail.endswith(("→ dnat", "→ snat", "→ masquerade"))
                    assert hop.rewrote == translating, hop.detail
                if last is not None and hop.role == last.role == "packet":
                    assert last.packet_after == hop.packet_before
                last = hop
