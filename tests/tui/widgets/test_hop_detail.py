"""The packet before and after a hop, the changed pieces lit."""

from ipaddress import IPv4Address

from playground.net.packet import tcp_syn
from playground.tui.widgets.hop_detail import CHANGED, packet_lines


def test_dnat_lights_the_destination_only():
    before = tcp_syn(IPv4Address("10.244.1.2"), IPv4Address("10.96.0.10"), 40000, 80)
    after = before.with_(dst=IPv4Address("10.244.2.2"), dport=8080)
    text = packet_lines(before, after)
    assert text.plain.splitlines() == [
        "before 10.244.1.2:40000 → 10.96.0.10:80  tcp SYN  ttl 64",
        "after  10.244.1.2:40000 → 10.244.2.2:8080  tcp SYN  ttl 64"]
    lit = {text.plain[span.start:span.end] for span in text.spans if span.style == CHANGED}
    assert lit == {"10.244.2.2", "8080"}
