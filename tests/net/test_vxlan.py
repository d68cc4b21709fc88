"""VXLAN through hand-built namespaces: two hosts on a segment, a tunnel between them and
a network behind each, with no Kubernetes and no flannel."""

from ipaddress import IPv4Address, IPv4Network

from playground.net.iplink import bridge_fdb_show, ip_link_show, ip_neigh_show
from playground.net.link import Ethernet, stable_mac
from playground.net.network import Network
from playground.net.packet import FRAG_NEEDED, ICMP_DEST_UNREACH, tcp_syn
from playground.net.route import Route
from playground.net.vxlan import OVERHEAD, Vxlan

A = IPv4Address


def tunnel_world():
    """left-host (192.168.0.2) and right-host (192.168.0.3), each with vx0 (VNI 42) and a
    leaf namespace behind a veth: 10.1.0.0/24 on the left, 10.2.0.0/24 on the right."""
    world = Network(seed=3)
    segment = world.segment("lan")
    for side, ip, net in (("left", "192.168.0.2", 1), ("right", "192.168.0.3", 2)):
        host = world.add_namespace(f"{side}-host")
        host.sysctl["net.ipv4.ip_forward"] = "1"
        eth0 = host.add_device(Ethernet("eth0", stable_mac(f"{side}/eth0")))
        segment.attach(eth0)
        host.add_address("eth0", f"{ip}/24")
        host.add_device(Vxlan("vx0", stable_mac(f"{side}/vx0"), mtu=1450, vni=42, local=A(ip),
                              underlay="eth0", dstport=8472, learning=False))
        host.add_address("vx0", f"10.{net}.0.0/32")
        leaf = world.add_namespace(side)
        world.add_veth(leaf, "eth0", host, "veth0")
        leaf.device("eth0").mtu = 1450
        host.add_address("veth0", f"10.{net}.0.1/24")
        leaf.add_address("eth0", f"10.{net}.0.2/24")
        leaf.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=A(f"10.{net}.0.1")))
    left, right = world.namespace("left-host"), world.namespace("right-host")
    for here, there, net, remote in ((left, right, 2, "192.168.0.3"),
                                     (right, left, 1, "192.168.0.2")):
        mac = there.device("vx0").mac
        here.device("vx0").add_fdb(mac, A(remote))
        here.add_neighbour(A(f"10.{net}.0.0"), mac, "vx0")
        here.add_route(Route(IPv4Network(f"10.{net}.0.0/24"), dev="vx0",
                             via=A(f"10.{net}.0.0"), onlink=True))
    world.namespace("right").bind("tcp", 80, "server")
    return world


def test_a_packet_routed_into_the_tunnel_is_wrapped_and_unwrapped_on_the_far_host():
    world = tunnel_world()
    trace = world.send("left", "10.2.0.2", "tcp", 80)
    assert trace.verdict == "delivered" and trace.delivered_to.owner == "server"
    assert trace.path() == ["left", "left-host", "right-host", "right"]
    wrap, = trace.events("encapsulate")
    outer, inner = wrap.packet_after, wrap.packet_before
    assert (wrap.where, wrap.dev_out) == ("left-host", "vx0")
    assert (outer.src, outer.dst, outer.proto, outer.dport) == (
        A("192.168.0.2"), A("192.168.0.3"), "udp", 8472)
    assert outer.vni == 42 and outer.payload == inner
    assert outer.length == inner.length + OVERHEAD
    unwrap, = trace.events("decapsulate")
    assert (unwrap.where, unwrap.dev_in) == ("right-host", "vx0")
    assert unwrap.packet_before == outer and unwrap.packet_after == inner
    after = trace.hops[trace.hops.index(unwrap) + 1]
    assert (after.event, after.dev_in) == ("recv", "vx0"), "the inner frame enters on vx0"
    assert trace.delivered_packet.ttl == 62, "two routers on the inner path"


def test_the_trace_text_shows_the_outer_header_around_the_inner_packet():
    world = tunnel_world()
    text = world.send("left", "10.2.0.2", "tcp", 80).text()
    assert " VXLAN vni 42 [TCP 10.1.0.2:" in text
    assert "UDP 192.168.0.2:" in text and "> 192.168.0.3:8472 ttl 64 VXLAN" in text
    wrap = next(line for line in text.splitlines() if " encapsulate " in line)
    assert "left-host" in wrap and "vx0" in wrap


def test_the_hosts_own_netfilter_sees_the_outer_udp_packet():
    world = tunnel_world()
    left = world.namespace("left-host")
    left.netfilter.iptables("-t filter -A OUTPUT -p udp --dport 8472 -j ACCEPT")
    left.netfilter.iptables("-t mangle -A POSTROUTING -p udp --dport 8472 -j ACCEPT")
    trace = world.send("left", "10.2.0.2", "tcp", 80)
    seen = [(h.chain, h.packet_before.proto) for h in trace.events("netfilter")
            if h.where == "left-host" and h.chain in ("OUTPUT", "POSTROUTING")]
    # the inner packet leaves the forward path first, then the tunnel's own datagram
    assert seen == [("POSTROUTING", "tcp"), ("OUTPUT", "udp"), ("POSTROUTING", "udp")]
    assert left.netfilter.chain("filter", "OUTPUT").rules[0].packets == 1


def test_the_reply_takes_the_tunnel_back():
    world = tunnel_world()
    reply = world.reply(world.send("left", "10.2.0.2", "tcp", 80))
    assert reply.verdict == "delivered"
    wrap, = reply.events("encapsulate")
    assert (wrap.where, wrap.packet_after.dst) == ("right-host", A("192.168.0.2"))


def test_one_flow_keeps_one_outer_source_port():
    world = tunnel_world()
    first = world.send("left", "10.2.0.2", "tcp", 80, sport=40000)
    again = world.walk(world.namespace("left"), first.packet.with_(flags="ACK"))
    ports = {t.events("encapsulate")[0].packet_after.sport for t in (first, again)}
    assert len(ports) == 1 and 32768 <= ports.pop() < 61000


def test_without_a_forwarding_entry_the_frame_has_nowhere_to_go():
    world = tunnel_world()
    left = world.namespace("left-host")
    left.device("vx0").remove_fdb(world.namespace("right-host").device("vx0").mac)
    trace = world.send("left", "10.2.0.2", "tcp", 80)
    assert trace.verdict == "unreachable" and "no forwarding entry" in trace.reason
    assert not trace.events("encapsulate")


def test_without_a_neighbour_entry_nothing_is_encapsulated():
    world = tunnel_world()
    world.namespace("left-host").remove_neighbour(A("10.2.0.0"))
    trace = world.send("left", "10.2.0.2", "tcp", 80)
    assert trace.verdict == "unreachable" and "no neighbour entry" in trace.reason


def test_a_different_vni_is_dropped_by_the_receiver():
    world = tunnel_world()
    world.namespace("right-host").device("vx0").vni = 7
    trace = world.send("left", "10.2.0.2", "tcp", 80)
    assert trace.verdict == "dropped" and "unknown VNI 42" in trace.reason


def test_too_big_with_df_while_forwarding_sends_fragmentation_needed_with_the_mtu():
    world = tunnel_world()
    left_host = world.namespace("left-host")
    left_host.add_address("eth0", "192.168.0.9/24")
    left_host.bind("tcp", 5000, "sender")
    world.namespace("left").device("eth0").mtu = 1500  # the leaf believes in a bigger link
    world.namespace("left-host").device("veth0").mtu = 1500
    packet = tcp_syn("10.1.0.2", "10.2.0.2", 40000, 80).with_(length=1500, df=True)
    trace = world.walk(world.namespace("left"), packet)
    assert trace.verdict == "dropped" and "fragmentation needed" in trace.reason
    assert not trace.events("encapsulate")
    errors = [h for h in trace.hops if h.role == "error" and h.event == "deliver"]
    assert errors and errors[0].where == "left"
    error = errors[0].packet_before
    assert (error.icmp_type, error.icmp_code, error.mtu) == (ICMP_DEST_UNREACH, FRAG_NEEDED,
                                                            1450)
    assert error.inner.length == 1500 and "need to frag (mtu 1450)" in error.summary()


def test_too_big_without_df_is_fragmented_and_the_first_fragment_fits_the_tunnel():
    world = tunnel_world()
    world.namespace("left").device("eth0").mtu = 1500
    world.namespace("left-host").device("veth0").mtu = 1500
    packet = tcp_syn("10.1.0.2", "10.2.0.2", 40000, 80).with_(length=1500)
    trace = world.walk(world.namespace("left"), packet)
    split, = trace.events("fragment")
    assert (split.where, split.dev_out) == ("left-host", "vx0")
    assert split.packet_after.length == 1444 and "into 2 fragments" in split.detail
    assert trace.events("encapsulate")[0].packet_after.length == 1494
    assert trace.verdict == "delivered"


def test_a_local_sender_with_df_gets_message_too_long_and_nothing_leaves():
    world = tunnel_world()
    trace = world.send("left", "10.2.0.2", "tcp", 80, size=1451, df=True)
    assert trace.verdict == "dropped" and "message too long" in trace.reason
    assert trace.path() == ["left"]
    assert world.send("left", "10.2.0.2", "tcp", 80, size=1450, df=True).verdict == "delivered"


def test_views_print_as_iproute2_does():
    world = tunnel_world()
    left = world.namespace("left-host")
    mac = world.namespace("right-host").device("vx0").mac
    own = left.device("vx0").mac
    assert ip_link_show(left, "vx0") == (
        "3: vx0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode "
        "DEFAULT group default qlen 1000\n"
        f"    link/ether {own} brd ff:ff:ff:ff:ff:ff\n")
    detail = ip_link_show(left, "vx0", details=True).splitlines()
    assert detail[1].endswith(" promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ")
    assert detail[2].startswith("    vxlan id 42 local 192.168.0.2 dev eth0 srcport 0 0 "
                                "dstport 8472 nolearning ttl auto ageing 300 udpcsum ")
    assert ip_neigh_show(left) == f"10.2.0.0 dev vx0 lladdr {mac} PERMANENT \n"
    assert ip_neigh_show(left, "vx0") == f"10.2.0.0 lladdr {mac} PERMANENT \n"
    assert bridge_fdb_show(left) == f"{mac} dev vx0 dst 192.168.0.3 self permanent\n"
    assert bridge_fdb_show(left, "vx0") == f"{mac} dst 192.168.0.3 self permanent\n"
    world.send("left", "10.2.0.2", "tcp", 80)
    learned = ip_neigh_show(world.namespace("left"))
    assert learned.endswith(" REACHABLE \n") and learned.startswith("10.1.0.1 dev eth0 ")


def test_views_refuse_what_they_do_not_model():
    import pytest

    from playground.net.netns import NetError

    world = tunnel_world()
    left = world.namespace("left-host")
    with pytest.raises(NetError, match="only VXLAN devices"):
        ip_link_show(left, "eth0")
    with pytest.raises(NetError, match="only the entries of VXLAN devices"):
        bridge_fdb_show(left, "eth0")
    with pytest.raises(NetError, match='Cannot find device "nope"'):
        ip_neigh_show(left, "nope")
