from ipaddress import IPv4Address

from playground.net.conntrack import ORIGINAL, REPLY, Conntrack, nat_rewrite, tuple_of
from playground.net.packet import Packet, tcp_syn, udp_datagram

A = IPv4Address


def test_first_packet_creates_an_unreplied_entry_and_the_reply_finds_it():
    table = Conntrack()
    syn = tcp_syn("10.244.1.2", "10.244.2.2", 40000, 80)
    entry = table.new(syn)
    assert table.lookup(syn) is None, "unconfirmed entries are not in the table yet"
    table.confirm(entry, syn)
    assert entry.state == "SYN_SENT" and entry.timeout == 120
    assert "[UNREPLIED]" in entry.text()
    syn_ack = Packet(A("10.244.2.2"), A("10.244.1.2"), "tcp", 80, 40000, flags="SYN,ACK")
    found, direction = table.lookup(syn_ack)
    assert found is entry and direction == REPLY
    table.update_state(entry, REPLY, syn_ack)
    assert entry.state == "SYN_RECV" and "[UNREPLIED]" not in entry.text()
    ack = syn.with_(flags="ACK")
    table.update_state(entry, ORIGINAL, ack)
    assert entry.state == "ESTABLISHED" and "[ASSURED]" in entry.text()


def test_conntrack_listing_format():
    table = Conntrack()
    datagram = udp_datagram("10.244.1.2", "10.96.0.10", 51000, 53)
    entry = table.new(datagram)
    table.bind_nat(entry, "DST", A("10.244.0.2"), 53)
    table.confirm(entry, datagram)
    assert table.listing() == (
        "udp      17 30 src=10.244.1.2 dst=10.96.0.10 sport=51000 dport=53 [UNREPLIED] "
        "src=10.244.0.2 dst=10.244.1.2 sport=53 dport=51000 mark=0 use=1\n"
    )
    assert Conntrack.summary(1) == (
        "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.")


def test_dnat_binding_translates_both_directions():
    table = Conntrack()
    syn = tcp_syn("10.244.1.2", "10.96.0.20", 40000, 80)
    entry = table.new(syn)
    table.bind_nat(entry, "DST", A("10.244.2.2"), 8080)
    table.confirm(entry, syn)
    out = nat_rewrite(syn, entry, ORIGINAL, "DST")
    assert (out.dst, out.dport) == (A("10.244.2.2"), 8080)
    reply = Packet(A("10.244.2.2"), A("10.244.1.2"), "tcp", 8080, 40000, flags="SYN,ACK")
    found, direction = table.lookup(reply)
    assert found is entry and direction == REPLY
    back = nat_rewrite(reply, entry, REPLY, "SRC")
    assert (back.src, back.sport) == (A("10.96.0.20"), 80)
    assert nat_rewrite(reply, entry, REPLY, "DST") == reply


def test_snat_binding():
    table = Conntrack()
    syn = tcp_syn("10.244.1.2", "203.0.113.10", 40000, 443)
    entry = table.new(syn)
    table.bind_nat(entry, "SRC", A("172.18.0.2"), None)
    table.confirm(entry, syn)
    out = nat_rewrite(syn, entry, ORIGINAL, "SRC")
    assert (out.src, out.sport) == (A("172.18.0.2"), 40000)
    reply = Packet(A("203.0.113.10"), A("172.18.0.2"), "tcp", 443, 40000, flags="SYN,ACK")
    assert table.lookup(reply)[1] == REPLY
    assert nat_rewrite(reply, entry, REPLY, "DST").dst == A("10.244.1.2")


def test_taken_reply_tuple_is_detected():
    table = Conntrack()
    first = tcp_syn("10.244.1.2", "203.0.113.10", 40000, 443)
    entry = table.new(first)
    table.bind_nat(entry, "SRC", A("172.18.0.2"), None)
    table.confirm(entry, first)
    second = table.new(tcp_syn("10.244.1.3", "203.0.113.10", 40000, 443))
    wanted = tuple_of(Packet(A("203.0.113.10"), A("172.18.0.2"), "tcp", 443, 40000))
    assert table.is_taken(wanted, second)


def test_entries_age_on_the_lab_clock_and_expire():
    now = [100.0]
    table = Conntrack(clock=lambda: now[0])
    datagram = udp_datagram("10.244.1.2", "10.96.0.10", 51000, 53)
    entry = table.new(datagram)
    table.confirm(entry, datagram)
    now[0] += 12
    assert table.listing().startswith("udp      17 18 ")
    now[0] += 18
    assert table.lookup(datagram) is None
    assert table.listing() == ""


def test_removing_flows_answered_by_an_endpoint():
    table = Conntrack()
    datagram = udp_datagram("10.244.1.2", "10.96.0.10", 51000, 53)
    entry = table.new(datagram)
    table.bind_nat(entry, "DST", A("10.244.0.2"), 53)
    table.confirm(entry, datagram)
    assert table.remove_where("udp", A("10.244.0.3")) == 0
    assert table.remove_where("udp", A("10.244.0.2")) == 1
    assert len(table) == 0


def test_a_flow_whose_only_answer_is_a_reset_is_forgotten():
    table = Conntrack()
    syn = tcp_syn("10.244.1.2", "10.244.2.3", 40000, 80)
    entry = table.new(syn)
    table.confirm(entry, syn)
    reset = Packet(A("10.244.2.3"), A("10.244.1.2"), "tcp", 80, 40000, flags="RST,ACK")
    table.update_state(entry, REPLY, reset)
    assert table.listing() == "", "the kernel kills an entry reset before any reply"


def test_a_reset_after_the_reply_keeps_the_entry_closing():
    table = Conntrack()
    syn = tcp_syn("10.244.1.2", "10.244.2.2", 40001, 80)
    entry = table.new(syn)
    table.confirm(entry, syn)
    syn_ack = Packet(A("10.244.2.2"), A("10.244.1.2"), "tcp", 80, 40001, flags="SYN,ACK")
    table.update_state(entry, REPLY, syn_ack)
    table.update_state(entry, ORIGINAL, syn.with_(flags="RST"))
    assert entry.state == "CLOSE" and len(table) == 1
