"""The eBPF model on its own: maps, programs at tc and cgroup hooks, what the walk records,
and the dumps Cilium's maps print. No Kubernetes here."""

from ipaddress import IPv4Address, IPv4Network

import pytest

from playground.net.bpf.ct import ConntrackMap, SnatMap
from playground.net.bpf.lb import Backend, Frontend, LoadBalancerMaps
from playground.net.bpf.maps import BpfMap, MapFull
from playground.net.bpf.program import Cgroup, Program, Verdict, attach_tc, listing
from playground.net.network import Network
from playground.net.packet import tcp_syn
from playground.net.route import Route

A = IPv4Address


def two_hosts():
    """a (10.0.0.1) and b (10.0.0.2) on one veth, b serving tcp/80 and tcp/8080."""
    net = Network()
    a, b = net.add_namespace("a"), net.add_namespace("b")
    net.add_veth(a, "eth0", b, "eth0")
    a.add_address("eth0", "10.0.0.1/24")
    b.add_address("eth0", "10.0.0.2/24")
    b.bind("tcp", 80, "web")
    b.bind("tcp", 8080, "alt")
    return net, a, b


def test_a_hash_map_refuses_a_key_past_its_size_and_an_lru_map_evicts_the_oldest():
    table = BpfMap("t", "hash", 2)
    table.update("x", 1)
    table.update("y", 2)
    with pytest.raises(MapFull):
        table.update("z", 3)
    lru = BpfMap("l", "lru_hash", 2)
    lru.update("x", 1)
    lru.update("y", 2)
    lru.lookup("x")  # x is now the most recent
    lru.update("z", 3)
    assert set(lru.entries) == {"x", "z"}


def test_a_tc_ingress_drop_is_a_hop_naming_the_program_and_ends_the_walk():
    net, a, b = two_hosts()
    guard = Program("guard", "tc", lambda ctx: Verdict("drop", ctx.packet, "port 80 is closed",
                                                       entry="ports 80 → deny"), 7)
    attach_tc(b.device("eth0"), "ingress", guard)
    trace = net.send("a", "10.0.0.2", "tcp", 80)
    assert trace.verdict == "dropped" and "guard" in trace.reason
    hop = trace.events("bpf")[0]
    assert hop.where == "b" and hop.program == "guard (tc)" and hop.map_entry == "ports 80 → deny"
    assert "tc ingress of eth0" in hop.detail and "port 80 is closed" in hop.detail
    assert not trace.events("deliver")


def test_a_rewrite_at_tc_ingress_changes_what_the_stack_sees():
    net, a, b = two_hosts()
    moved = Program("mover", "tc", lambda ctx: Verdict("pass", ctx.packet.with_(dport=8080),
                                                       "80 becomes 8080"))
    attach_tc(b.device("eth0"), "ingress", moved)
    trace = net.send("a", "10.0.0.2", "tcp", 80)
    assert trace.delivered_to.owner == "alt"
    hop = trace.events("bpf")[0]
    assert hop.rewrote and hop.packet_after.dport == 8080


def test_a_redirect_skips_routing_and_leaves_by_the_named_device():
    net, a, b = two_hosts()
    c = net.add_namespace("c")
    net.add_veth(b, "eth1", c, "eth0")
    c.add_address("eth0", "10.0.1.2/24")
    c.bind("tcp", 80, "hidden")
    to_c = c.device("eth0").mac
    # b has no route to 10.0.1.0/24 and forwarding is off: only the program gets it there
    steer = Program("steer", "tc", lambda ctx: Verdict(
        "redirect", ctx.packet.with_(dst=A("10.0.1.2")), "to c", redirect="eth1",
        dst_mac=to_c))
    attach_tc(b.device("eth0"), "ingress", steer)
    trace = net.send("a", "10.0.0.2", "tcp", 80)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "c"
    assert not [h for h in trace.hops if h.where == "b" and h.event in ("route", "forward")]


def test_connect4_rewrites_the_destination_before_any_packet_and_the_socket_follows():
    net, a, b = two_hosts()
    a.add_route(Route(IPv4Network("10.96.0.0/12"), dev="eth0"))  # so the app has a source
    group = Cgroup("/sys/fs/cgroup")
    group.attach("connect4", Program("lb", "cgroup/connect4", lambda ctx: Verdict(
        "pass", ctx.packet.with_(dst=A("10.0.0.2"), dport=8080), "service to backend")))
    a.cgroup = group
    trace = net.send("a", "10.96.0.10", "tcp", 80)
    first = trace.hops[0]
    assert first.event == "bpf" and first.program == "lb (cgroup/connect4)"
    assert trace.packet.dst == A("10.96.0.10"), "the trace starts from what the app asked"
    assert trace.delivered_to.owner == "alt"
    assert any(s.remote == (A("10.0.0.2"), 8080) for s in a.sockets)
    reply = net.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "a"


def test_a_rejected_connect_sends_nothing():
    net, a, b = two_hosts()
    group = Cgroup("/sys/fs/cgroup")
    group.attach("connect4", Program("lb", "cgroup/connect4", lambda ctx: Verdict(
        "reject", ctx.packet, "no backends", errno="EHOSTUNREACH")))
    a.cgroup = group
    trace = net.send("a", "10.0.0.2", "tcp", 80)
    assert trace.verdict == "unreachable" and "EHOSTUNREACH" in trace.reason
    assert [h.event for h in trace.hops] == ["bpf"]
    assert not [s for s in a.sockets if s.remote]


def test_bpftool_listing_names_attached_programs():
    net, a, b = two_hosts()
    attach_tc(b.device("eth0"), "ingress", Program("cil_from_netdev", "tc", None, 12))
    text = listing(b)
    assert "eth0(2) tcx/ingress cil_from_netdev prog_id 12" in text
    with pytest.raises(ValueError):
        Cgroup("/x").attach("bind9", Program("p", "cgroup/bind9", None))


def test_lb_list_and_service_list_print_as_cilium_does():
    lb = LoadBalancerMaps()
    web = Frontend(A("10.96.184.22"), 80, "TCP")
    lb.upsert(web, [Backend(A("10.244.1.201"), 8080, "TCP"), Backend(A("10.244.2.31"), 8080,
                                                                      "TCP")],
              ("ClusterIP", "non-routable"))
    lb.upsert(Frontend(A("10.96.0.9"), 80, "TCP"), [], ("ClusterIP", "non-routable"))
    assert lb.lb_list() == (
        "SERVICE ADDRESS       BACKEND ADDRESS (REVNAT_ID) (SLOT)            \n"
        "10.96.0.9:80/TCP      0.0.0.0:0 (2) (0) [ClusterIP, non-routable]   \n"
        "10.96.184.22:80/TCP   0.0.0.0:0 (1) (0) [ClusterIP, non-routable]   \n"
        "                      10.244.1.201:8080/TCP (1) (1)                 \n"
        "                      10.244.2.31:8080/TCP (1) (2)                  \n")
    assert lb.service_list() == (
        "ID   Frontend              Service Type   Backend\n"
        "1    10.96.184.22:80/TCP   ClusterIP      1 => 10.244.1.201:8080/TCP (active)\n"
        "                                          2 => 10.244.2.31:8080/TCP (active)\n"
        "2    10.96.0.9:80/TCP      ClusterIP\n")


def test_backends_are_shared_by_id_and_freed_with_their_last_frontend():
    lb = LoadBalancerMaps()
    one = Backend(A("10.244.1.5"), 80, "TCP")
    first, second = Frontend(A("10.96.0.20"), 80, "TCP"), Frontend(A("10.96.0.21"), 80, "TCP")
    lb.upsert(first, [one], ("ClusterIP",))
    lb.upsert(second, [one], ("ClusterIP",))
    assert len(lb.backends) == 1
    lb.upsert(first, [], ("ClusterIP",))
    assert len(lb.backends) == 1 and lb.master(first).count == 0
    lb.delete(second)
    assert len(lb.backends) == 0 and lb.master(second) is None
    assert 2 not in lb.reverse_nat.entries


def test_ct_and_nat_entries_print_as_cilium_does():
    ct = ConntrackMap()
    syn = tcp_syn("10.244.1.2", "10.244.2.2", 45391, 80)
    key, entry = ct.create(syn, "OUT", 13)
    assert ct.listing() == (
        "TCP OUT 10.244.1.2:45391 -> 10.244.2.2:80 expires=73 RxPackets=0 RxBytes=0 "
        "RxFlagsSeen=0x00 LastRxReport=0 TxPackets=1 TxBytes=60 TxFlagsSeen=0x02 "
        "LastTxReport=13 Flags=0x0000 [ ] RevNAT=0 SourceSecurityID=0 IfIndex=0 \n")
    answer = syn.with_(src=syn.dst, dst=syn.src, sport=80, dport=45391, flags="SYN,ACK")
    found_key, found, is_reply = ct.find(answer)
    assert found is entry and is_reply
    ct.account(found, answer, 14, reply=True)
    assert "expires=21614" in ct.listing() and "[ SeenNonSyn ]" in ct.listing()
    nat = SnatMap()
    nat.bind(syn, A("172.18.0.2"), 40000, 5)
    assert nat.listing(8) == (
        "TCP OUT 10.244.1.2:45391 -> 10.244.2.2:80 XLATE_SRC 172.18.0.2:40000 Created=3sec ago "
        "NeedsCT=0\n"
        "TCP IN 10.244.2.2:80 -> 172.18.0.2:40000 XLATE_DST 10.244.1.2:45391 Created=3sec ago "
        "NeedsCT=0\n")
