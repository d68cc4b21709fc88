"""The IPVS table on its own: round robin, persistence, connection entries, the views,
and the walk through a namespace that holds a virtual service (director) between two."""

from ipaddress import IPv4Address, IPv4Network

import pytest

from playground.net.ipset import IpsetError, IpSets
from playground.net.ipvs import Ipvs, IpvsError
from playground.net.link import Dummy
from playground.net.network import Network
from playground.net.packet import tcp_syn, udp_datagram
from playground.net.route import Route

A = IPv4Address
VIP = A("10.96.0.10")


def table(*reals: str, persistent: int | None = None):
    ipvs = Ipvs()
    service = ipvs.add_service("tcp", VIP, 80, persistent=persistent)
    for real in reals:
        ipvs.add_dest(service, A(real), 8080)
    return ipvs, service


def test_round_robin_starts_at_the_newest_real_server_and_takes_turns():
    ipvs, service = table("10.0.0.1", "10.0.0.2", "10.0.0.3")
    picked = []
    for sport in range(40000, 40006):
        conn, _how = ipvs.schedule(service, tcp_syn(A("10.1.0.1"), VIP, sport, 80), now=0)
        picked.append(str(conn.daddr))
    assert picked == ["10.0.0.3", "10.0.0.2", "10.0.0.1"] * 2


def test_a_weight_of_zero_is_skipped_and_no_real_server_means_no_connection():
    ipvs, service = table("10.0.0.1", "10.0.0.2")
    service.dest(A("10.0.0.2"), 8080).weight = 0
    conns = [ipvs.schedule(service, tcp_syn(A("10.1.0.1"), VIP, p, 80), 0)[0] for p in (1, 2)]
    assert {str(c.daddr) for c in conns} == {"10.0.0.1"}
    empty, lonely = table()
    conn, why = empty.schedule(lonely, tcp_syn(A("10.1.0.1"), VIP, 3, 80), 0)
    assert conn is None and "no real server" in why


def test_a_flow_keeps_its_real_server_and_replies_find_it():
    ipvs, service = table("10.0.0.1", "10.0.0.2")
    syn = tcp_syn(A("10.1.0.1"), VIP, 40000, 80)
    conn, _ = ipvs.schedule(service, syn, 0)
    assert ipvs.conn_in(syn.with_(flags="ACK"), 1) is conn
    reply = syn.with_(src=conn.daddr, sport=8080, dst=A("10.1.0.1"), dport=40000,
                      flags="SYN,ACK")
    assert ipvs.conn_out(reply, 1) is conn
    assert ipvs.conn_in(tcp_syn(A("10.1.0.1"), VIP, 40001, 80), 1) is None


def test_persistence_sends_a_client_back_to_its_real_server_through_a_template():
    ipvs, service = table("10.0.0.1", "10.0.0.2", persistent=10800)
    first, _ = ipvs.schedule(service, tcp_syn(A("10.1.0.1"), VIP, 40000, 80), 0)
    again, how = ipvs.schedule(service, tcp_syn(A("10.1.0.1"), VIP, 40001, 80), 5)
    other, _ = ipvs.schedule(service, tcp_syn(A("10.1.0.2"), VIP, 40000, 80), 5)
    assert again.daddr == first.daddr and "persistence" in how
    assert other.daddr != first.daddr
    lines = ipvs.connection_listing(5).splitlines()  # using a template restarts its timer
    assert "TCP 180:00 NONE        10.1.0.1:0         10.96.0.10:80      10.0.0.2:8080" in lines


def test_state_changes_move_connections_between_inactive_and_active():
    ipvs, service = table("10.0.0.1")
    syn = tcp_syn(A("10.1.0.1"), VIP, 40000, 80)
    conn, _ = ipvs.schedule(service, syn, 0)
    ipvs.set_state(conn, False, syn, 0)
    dest = service.dests[0]
    assert (conn.state, dest.active, dest.inactive) == ("SYN_RECV", 0, 1)
    ipvs.set_state(conn, False, syn.with_(flags="ACK"), 1)
    assert (conn.state, dest.active, dest.inactive) == ("ESTABLISHED", 1, 0)
    ipvs.expire(1 + 900)
    assert ipvs.connections == [] and dest.active == 0


def test_ipvsadm_listing_matches_the_real_layout():
    ipvs = Ipvs()
    udp = ipvs.add_service("udp", VIP, 53)
    tcp = ipvs.add_service("tcp", A("10.96.0.1"), 443, persistent=10800)
    ipvs.add_dest(udp, A("10.244.0.3"), 53)
    ipvs.add_dest(udp, A("10.244.0.2"), 53)
    ipvs.add_dest(tcp, A("172.18.0.4"), 6443)
    assert ipvs.listing() == (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  10.96.0.1:443 rr persistent 10800\n"
        "  -> 172.18.0.4:6443              Masq    1      0          0         \n"
        "UDP  10.96.0.10:53 rr\n"
        "  -> 10.244.0.2:53                Masq    1      0          0         \n"
        "  -> 10.244.0.3:53                Masq    1      0          0         \n")
    assert ipvs.connection_listing() == (
        "IPVS connection entries\n"
        "pro expire state       source             virtual            destination\n")


def test_ipvsadm_refusals():
    ipvs, service = table("10.0.0.1")
    with pytest.raises(IpvsError, match="Service already exists"):
        ipvs.add_service("tcp", VIP, 80)
    with pytest.raises(IpvsError, match="Destination already exists"):
        ipvs.add_dest(service, A("10.0.0.1"), 8080)
    with pytest.raises(IpvsError, match="Scheduler not found"):
        ipvs.add_service("tcp", VIP, 81, scheduler="wlc")


def test_ipsets_match_packets_by_their_flags_and_list_like_ipset():
    sets = IpSets()
    cluster = sets.create("KUBE-CLUSTER-IP", "hash:ip,port")
    cluster.add("10.96.0.10,tcp:80")
    loop = sets.create("KUBE-LOOP-BACK", "hash:ip,port,ip")
    loop.add("10.244.1.5,tcp:8080,10.244.1.5")
    ports = sets.create("KUBE-NODE-PORT-TCP", "bitmap:port")
    ports.add("30080")
    syn = tcp_syn(A("10.244.1.2"), VIP, 40000, 80)
    assert cluster.contains(syn, ["dst", "dst"])
    assert not cluster.contains(syn.with_(dport=81), ["dst", "dst"])
    assert not cluster.contains(udp_datagram(A("10.244.1.2"), VIP, 40000, 80), ["dst", "dst"])
    hairpin = tcp_syn(A("10.244.1.5"), A("10.244.1.5"), 40000, 8080)
    assert loop.contains(hairpin, ["dst", "dst", "src"])
    assert not loop.contains(hairpin.with_(src=A("10.244.1.6")), ["dst", "dst", "src"])
    assert ports.contains(syn.with_(dport=30080), ["dst"])
    assert sets.listing({"KUBE-CLUSTER-IP": 2}, "KUBE-CLUSTER-IP").splitlines() == [
        "Name: KUBE-CLUSTER-IP", "Type: hash:ip,port", "Revision: 7",
        "Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x"
        + sets.listing(name="KUBE-CLUSTER-IP").split("initval 0x")[1][:8],
        "Size in memory: 264", "References: 2", "Number of entries: 1", "Members:",
        "10.96.0.10,tcp:80"]
    with pytest.raises(IpsetError):
        cluster.add("10.96.0.10")
    with pytest.raises(IpsetError, match="does not exist"):
        sets.listing(name="NOPE")


def director_lab():
    """client --- director (VIP on a dummy, IPVS) --- server; the server routes back via
    the director, as a NAT real server must."""
    net = Network()
    client, director, server = (net.add_namespace(n) for n in ("client", "director", "server"))
    net.add_veth(client, "eth0", director, "c0")
    net.add_veth(server, "eth0", director, "s0")
    client.add_address("eth0", "10.1.0.2/24")
    director.add_address("c0", "10.1.0.1/24")
    director.add_address("s0", "10.2.0.1/24")
    server.add_address("eth0", "10.2.0.2/24")
    client.add_route(Route(IPv4Network("0.0.0.0/0"), via=A("10.1.0.1")))
    server.add_route(Route(IPv4Network("0.0.0.0/0"), via=A("10.2.0.1")))
    director.sysctl["net.ipv4.ip_forward"] = "1"
    director.add_device(Dummy("vip0", "02:00:00:00:00:09", up=False))
    director.add_address("vip0", f"{VIP}/32")
    ipvs = director.load_ipvs()
    director.sysctl["net.ipv4.vs.conntrack"] = "1"
    service = ipvs.add_service("tcp", VIP, 80)
    ipvs.add_dest(service, A("10.2.0.2"), 8080)
    server.bind("tcp", 8080, "httpd")
    return net


def test_a_director_dnats_at_local_in_and_the_reply_is_un_nated_at_forward():
    net = director_lab()
    trace = net.send("client", VIP, "tcp", 80, owner="curl")
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "server"
    hop = next(h for h in trace.hops if h.event == "ipvs")
    assert hop.where == "director" and hop.packet_after.dst == A("10.2.0.2")
    assert "TCP 10.96.0.10:80" in hop.detail and "10.2.0.2:8080" in hop.detail
    assert trace.delivered_packet.src == A("10.1.0.2"), "Masq keeps the client's address"
    reply = net.reply(trace)
    assert reply.verdict == "delivered" and reply.delivered_to.namespace == "client"
    assert reply.delivered_packet.src == VIP and reply.delivered_packet.sport == 80
    undo = next(h for h in reply.hops if h.event == "ipvs")
    assert undo.where == "director" and "reply" in undo.detail
    director = net.namespace("director")
    assert "ESTABLISHED" not in director.ipvs.connection_listing(net.clock)
    entry = director.conntrack.listing()
    assert "src=10.1.0.2 dst=10.96.0.10 sport=" in entry
    assert "src=10.2.0.2 dst=10.1.0.2 sport=8080" in entry, "vs.conntrack=1 fixed the reply"


def test_without_vs_conntrack_the_flow_is_not_tracked():
    net = director_lab()
    director = net.namespace("director")
    director.sysctl["net.ipv4.vs.conntrack"] = "0"
    director.force_conntrack = True
    trace = net.send("client", VIP, "tcp", 80, owner="curl")
    assert trace.verdict == "delivered"
    assert director.conntrack.listing() == ""


def test_a_virtual_service_without_real_servers_answers_port_unreachable():
    net = director_lab()
    ipvs = net.namespace("director").ipvs
    service = ipvs.service("tcp", VIP, 80)
    ipvs.delete_dest(service, service.dests[0])
    trace = net.send("client", VIP, "tcp", 80, owner="curl")
    assert trace.verdict == "rejected"
    assert any(h.event == "deliver" and h.where == "client" and h.role == "error"
               for h in trace.hops)


def test_a_packet_to_another_port_of_the_vip_reaches_the_director_itself():
    net = director_lab()
    trace = net.send("client", VIP, "tcp", 22, owner="ssh")
    assert trace.verdict == "rejected" and not trace.events("ipvs")
