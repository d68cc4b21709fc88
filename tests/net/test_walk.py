"""Packets through hand-built namespaces: no Kubernetes, just the modelled kernel."""

from ipaddress import IPv4Address, IPv4Network

from playground.net.link import Bridge, Ethernet, stable_mac
from playground.net.network import Network
from playground.net.route import Route

A = IPv4Address


def two_hosts_on_a_bridge(hairpin=True):
    """host ns with br0 (10.0.0.1/24) and two leaf namespaces on it."""
    world = Network(seed=1)
    host = world.add_namespace("host")
    host.sysctl["net.ipv4.ip_forward"] = "1"
    bridge = host.add_device(Bridge("br0", stable_mac("br0")))
    host.add_address("br0", "10.0.0.1/24")
    for index, name in enumerate(("left", "right"), start=2):
        leaf = world.add_namespace(name)
        _, port = world.add_veth(leaf, "eth0", host, f"v-{name}")
        bridge.enslave(port, hairpin=hairpin)
        leaf.add_address("eth0", f"10.0.0.{index}/24")
        leaf.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("10.0.0.1")))
    world.namespace("right").bind("tcp", 80, "server")
    return world, bridge


def test_bridge_switches_between_ports_and_learns_macs():
    world, bridge = two_hosts_on_a_bridge()
    trace = world.send("left", "10.0.0.3", "tcp", 80)
    assert trace.verdict == "delivered"
    assert trace.delivered_to.owner == "server"
    assert trace.path() == ["left", "host", "right"]
    bridged = trace.events("bridge")
    assert bridged and bridged[0].dev_in == "v-left" and bridged[0].dev_out == "v-right"
    left_mac = world.namespace("left").devices["eth0"].mac
    right_mac = world.namespace("right").devices["eth0"].mac
    assert bridge.fdb[left_mac] == "v-left"
    assert bridge.fdb[right_mac] == "v-right"
    assert not trace.events("forward"), "switched, not routed: TTL stays"
    assert trace.delivered_packet.ttl == 64


def test_reply_comes_back_to_the_connected_socket():
    world, _ = two_hosts_on_a_bridge()
    trace = world.send("left", "10.0.0.3", "tcp", 80, owner="curl")
    reply = world.reply(trace)
    assert reply.verdict == "delivered"
    assert reply.delivered_to.owner == "curl"
    assert reply.packet.flags == "SYN,ACK"


def test_no_listener_gets_a_tcp_reset_and_udp_an_icmp_error():
    world, _ = two_hosts_on_a_bridge()
    tcp = world.send("left", "10.0.0.3", "tcp", 81)
    assert tcp.verdict == "rejected"
    resets = [h for h in tcp.hops if h.role == "reset" and h.event == "deliver"]
    assert resets and "RST" in resets[0].packet_before.flags
    udp = world.send("left", "10.0.0.3", "udp", 53)
    assert udp.verdict == "rejected"
    errors = [h for h in udp.hops if h.role == "error" and h.event == "deliver"]
    assert errors and errors[0].packet_before.icmp_code == 3
    assert errors[0].where == "left"


def test_ping_is_answered_by_the_kernel():
    world, _ = two_hosts_on_a_bridge()
    trace = world.send("left", "10.0.0.3", "icmp")
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "kernel"
    assert world.reply(trace).verdict == "delivered"


def routers_in_a_line(loop=False):
    """a -- r1 -- r2, each link a veth pair; r2 has no route back unless told."""
    world = Network()
    a, r1, r2 = (world.add_namespace(n) for n in ("a", "r1", "r2"))
    world.add_veth(a, "eth0", r1, "to-a")
    world.add_veth(r1, "to-r2", r2, "to-r1")
    a.add_address("eth0", "192.168.1.2/24")
    r1.add_address("to-a", "192.168.1.1/24")
    r1.add_address("to-r2", "192.168.2.1/24")
    r2.add_address("to-r1", "192.168.2.2/24")
    for router in (r1, r2):
        router.sysctl["net.ipv4.ip_forward"] = "1"
    a.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A("192.168.1.1")))
    r1.add_route(Route(IPv4Network("10.0.0.0/8"), dev="to-r2", via=A("192.168.2.2")))
    r2.add_route(Route(IPv4Network("192.168.1.0/24"), dev="to-r1", via=A("192.168.2.1")))
    if loop:
        r2.add_route(Route(IPv4Network("10.0.0.0/8"), dev="to-r1", via=A("192.168.2.1")))
    return world


def test_no_route_on_a_router_sends_net_unreachable_back():
    world = routers_in_a_line()
    trace = world.send("a", "10.1.2.3", "tcp", 80)
    assert trace.verdict == "unreachable"
    assert "r2" in trace.reason
    icmp = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert icmp and icmp[0].where == "a"
    assert icmp[0].packet_before.src == A("192.168.2.2")
    assert icmp[0].packet_before.icmp_type == 3 and icmp[0].packet_before.icmp_code == 0


def test_no_route_at_the_sender_fails_the_send():
    world = routers_in_a_line()
    trace = world.send("r2", "8.8.8.8", "tcp", 80)
    assert trace.verdict == "unreachable"
    assert len(trace.hops) == 1 and trace.hops[0].event == "route"


def test_a_routing_loop_ends_with_ttl_exceeded():
    world = routers_in_a_line(loop=True)
    trace = world.send("a", "10.1.2.3", "tcp", 80)
    assert trace.verdict == "expired"
    forwards = trace.events("forward")
    assert 60 <= len(forwards) <= 64
    assert [h.packet_after.ttl for h in forwards][:3] == [63, 62, 61]
    back = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert back and back[0].packet_before.icmp_type == 11


def test_ip_forward_off_drops_silently():
    world = routers_in_a_line()
    world.namespace("r1").sysctl["net.ipv4.ip_forward"] = "0"
    trace = world.send("a", "10.1.2.3", "tcp", 80)
    assert trace.verdict == "dropped" and "ip_forward" in trace.reason
    assert not [h for h in trace.hops if h.role == "error"]


def test_ethernet_segment_delivers_by_mac():
    world = Network()
    for index in (2, 3):
        ns = world.add_namespace(f"h{index}")
        eth = Ethernet("eth0", stable_mac(f"h{index}"))
        ns.add_device(eth)
        world.segment("lan").attach(eth)
        ns.add_address("eth0", f"172.18.0.{index}/16")
    world.namespace("h3").bind("udp", 53, "dns")
    trace = world.send("h2", "172.18.0.3", "udp", 53)
    assert trace.verdict == "delivered"
    xmit = trace.events("xmit")[0]
    assert "ARP" in xmit.detail
    again = world.send("h2", "172.18.0.3", "udp", 53)
    assert "neighbour cache" in again.events("xmit")[0].detail


def test_nothing_answers_arp():
    world = Network()
    ns = world.add_namespace("h")
    eth = Ethernet("eth0", stable_mac("h"))
    ns.add_device(eth)
    world.segment("lan").attach(eth)
    ns.add_address("eth0", "172.18.0.2/16")
    trace = world.send("h", "172.18.0.99", "tcp", 80)
    assert trace.verdict == "unreachable"


def test_same_lab_same_trace():
    first = two_hosts_on_a_bridge()[0].send("left", "10.0.0.3", "tcp", 80).to_dict()
    second = two_hosts_on_a_bridge()[0].send("left", "10.0.0.3", "tcp", 80).to_dict()
    assert first == second


def test_a_packet_dnated_to_an_own_address_loops_back_through_lo():
    world, _ = two_hosts_on_a_bridge()
    host = world.namespace("host")
    host.bind("tcp", 6443, "apiserver")
    host.netfilter.iptables("-t nat -A OUTPUT -d 10.96.0.1/32 -p tcp -m tcp --dport 443 "
                            "-j DNAT --to-destination 10.0.0.1:6443")
    host.add_route(Route(IPv4Network("10.96.0.0/12"), dev="br0", via=A("10.0.0.3")))
    trace = world.send("host", "10.96.0.1", "tcp", 443)
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "apiserver"
    assert any(h.event == "xmit" and h.dev_out == "lo" for h in trace.hops)


def test_after_the_handshake_the_clients_ack_reaches_the_servers_connection():
    world, _ = two_hosts_on_a_bridge()
    syn = world.send("left", "10.0.0.3", "tcp", 80, sport=41000)
    assert world.reply(syn).verdict == "delivered"
    ack = world.walk(world.namespace("left"), syn.packet.with_(flags="ACK"))
    assert ack.verdict == "delivered" and "connected socket" in ack.hops[-1].detail
    assert world.reply(ack).verdict == "delivered"


def test_an_icmp_error_about_no_tracked_flow_is_invalid_and_leaves_no_entry():
    from playground.net.packet import Packet, udp_datagram
    world, _ = two_hosts_on_a_bridge()
    left = world.namespace("left")
    left.force_conntrack = True
    never_sent = udp_datagram(A("10.0.0.2"), A("10.0.0.3"), 40000, 53)
    error = Packet(A("10.0.0.3"), A("10.0.0.2"), "icmp", icmp_type=3, icmp_code=3,
                   inner=never_sent)
    trace = world.walk(world.namespace("right"), error)
    judged = [h for h in trace.hops if h.event == "conntrack" and h.where.endswith("left")]
    assert judged and "INVALID" in judged[0].detail, [h.detail for h in trace.hops]
    assert not left.conntrack.entries
