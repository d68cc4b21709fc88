"""-m physdev: parsed and saved as iptables does, matched on the bridge ports br_netfilter
left on the packet."""

import pytest

from playground.net.netfilter import IptablesError, Netfilter, PacketMeta
from playground.net.packet import tcp_syn

PKT = tcp_syn("10.244.1.5", "198.51.100.7", 40000, 80)


def verdict(nf, table="nat", chain="PREROUTING", **meta):
    return nf.run_chain(table, chain, PKT, PacketMeta(**meta)).action


def test_is_in_and_its_negation_follow_the_port_the_packet_came_in_on():
    nf = Netfilter()
    nf.iptables("-t nat -A PREROUTING -m physdev ! --physdev-is-in -j ACCEPT")
    nf.iptables("-t nat -A PREROUTING -m physdev --physdev-is-in -j DNAT --to-destination 1.2.3.4")
    assert verdict(nf) == "ACCEPT", "routed in (no bridge port): ! --physdev-is-in"
    assert verdict(nf, phys_in="veth1") == "DNAT"


def test_names_prefixes_and_bridged():
    nf = Netfilter()
    nf.iptables("-A FORWARD -m physdev --physdev-in veth+ --physdev-is-bridged -j REJECT")
    nf.iptables("-A FORWARD -m physdev --physdev-out eth1 -j DROP")
    where = dict(table="filter", chain="FORWARD")
    assert verdict(nf, phys_in="veth9", phys_out="veth2", **where) == "REJECT"
    assert verdict(nf, phys_in="veth9", **where) == "ACCEPT", "not bridged: no port out"
    assert verdict(nf, phys_in="vxlan0", phys_out="eth1", **where) == "DROP"


def test_saved_in_libxt_physdev_order():
    nf = Netfilter()
    nf.iptables("-t nat -A PREROUTING -m physdev ! --physdev-is-in --physdev-in cni+ "
                "-m addrtype ! --src-type LOCAL -j ACCEPT")
    rule = [line for line in nf.save(["nat"]).splitlines() if line.startswith("-A")][0]
    assert rule == ("-A PREROUTING -m physdev --physdev-in cni+ ! --physdev-is-in "
                    "-m addrtype ! --src-type LOCAL -j ACCEPT")


def test_a_physdev_without_options_is_refused():
    with pytest.raises(IptablesError, match="no physdev option specified"):
        Netfilter().iptables("-t nat -A PREROUTING -m physdev -j ACCEPT")
