"""Chains shared by several tables: each table shows them as its own, changes by hand stay in
one table, counters are per table, and the destination index walks like the kernel."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given, settings
from hypothesis import strategies as st

import playground.net.netfilter.core as core
from playground.net.chains import SharedChains
from playground.net.netfilter import Chain, Netfilter, PacketMeta, parse_rule
from playground.net.packet import tcp_syn

SERVICES = [f"-d 10.96.0.{n}/32 -p tcp -m comment --comment \"default/s{n} cluster IP\" "
            f"-m tcp --dport 80 -j KUBE-SVC-{n:016d}" for n in range(1, 41)]


def shared_layer() -> SharedChains:
    shared = SharedChains()
    for n in range(1, 41):
        shared.set(f"KUBE-SVC-{n:016d}", Chain(f"KUBE-SVC-{n:016d}", rules=[parse_rule(
            "nat", "x", f"-p tcp -j DNAT --to-destination 10.244.0.{n}:8080")]))
    shared.set("KUBE-SERVICES", Chain("KUBE-SERVICES", rules=[
        parse_rule("nat", "KUBE-SERVICES", line) for line in SERVICES]))
    return shared


def node(shared: SharedChains) -> Netfilter:
    nf = Netfilter()
    nf.share("nat", shared)
    nf.iptables("-t nat -A OUTPUT -j KUBE-SERVICES")
    return nf


def text_of_a_table_built_from_scratch() -> str:
    nf = Netfilter()
    lines = ["*nat"] + [f":KUBE-SVC-{n:016d} - [0:0]" for n in range(1, 41)]
    lines += [":KUBE-SERVICES - [0:0]", "-A OUTPUT -j KUBE-SERVICES"]
    lines += [f"-A KUBE-SERVICES {line}" for line in SERVICES]
    lines += [f"-A KUBE-SVC-{n:016d} -p tcp -j DNAT --to-destination 10.244.0.{n}:8080"
              for n in range(1, 41)]
    nf.restore("\n".join(lines) + "\nCOMMIT\n")
    return nf.save(["nat"])


def send(nf: Netfilter, dst: str):
    packet = tcp_syn(IPv4Address("10.244.1.5"), IPv4Address(dst), 40000, 80)
    return nf.run_chain("nat", "OUTPUT", packet, PacketMeta(out_dev="eth0"))


def test_a_shared_chain_saves_exactly_like_one_loaded_by_iptables_restore():
    assert node(shared_layer()).save(["nat"]) == text_of_a_table_built_from_scratch()


def test_a_change_by_hand_stays_on_its_node_until_the_owner_rewrites_the_chain():
    shared = shared_layer()
    one, two = node(shared), node(shared)
    one.iptables("-t nat -F KUBE-SVC-0000000000000001")
    assert "-A KUBE-SVC-0000000000000001 -p tcp -j DNAT" not in one.save(["nat"])
    assert "-A KUBE-SVC-0000000000000001 -p tcp -j DNAT" in two.save(["nat"])
    shared.set("KUBE-SVC-0000000000000001", Chain("KUBE-SVC-0000000000000001", rules=[
        parse_rule("nat", "x", "-p tcp -j DNAT --to-destination 10.244.0.1:9090")]))
    assert "10.244.0.1:9090" in one.save(["nat"]) and "10.244.0.1:9090" in two.save(["nat"])


def test_counters_of_shared_rules_are_counted_per_table():
    shared = shared_layer()
    one, two = node(shared), node(shared)
    assert send(one, "10.96.0.7").action == "DNAT"
    line = f"[1:60] -A KUBE-SERVICES {SERVICES[6]}"
    assert line in one.save(["nat"], counters=True)
    assert line not in two.save(["nat"], counters=True)
    one.zero_counters()
    assert line not in one.save(["nat"], counters=True)


def test_deleting_a_shared_chain_hides_it_in_that_table_only():
    shared = SharedChains()
    shared.set("KUBE-LONELY", Chain("KUBE-LONELY"))
    one, two = Netfilter(), Netfilter()
    one.share("nat", shared)
    two.share("nat", shared)
    one.iptables("-t nat -X KUBE-LONELY")
    assert ":KUBE-LONELY" not in one.save(["nat"]) and ":KUBE-LONELY" in two.save(["nat"])


rule_lines = st.lists(st.one_of(
    st.builds(lambda n, port: f"-d 10.96.0.{n}/32 -p tcp -m tcp --dport {port} -j ACCEPT",
              st.integers(1, 6), st.sampled_from((80, 443))),
    st.builds(lambda n: f"! -d 10.96.0.{n}/32 -j RETURN", st.integers(1, 6)),
    st.builds(lambda n: f"-d 10.96.0.0/{n} -p udp -j DROP", st.integers(24, 30)),
    st.just("-p tcp -m tcp --dport 443 -j MARK --set-xmark 0x4000/0x4000"),
), min_size=1, max_size=80)


@settings(max_examples=80, deadline=None)
@given(rule_lines, st.integers(1, 7), st.sampled_from((80, 443)))
def test_the_index_finds_the_rule_and_counts_the_rules_walked_as_a_plain_walk(
        lines, host, port):
    def walk(index_from: int):
        core.INDEX_MIN_RULES = index_from
        nf = Netfilter()
        nf.restore("*filter\n:LONG - [0:0]\n-A OUTPUT -j LONG\n"
                   + "".join(f"-A LONG {line}\n" for line in lines) + "COMMIT\n")
        packet = tcp_syn(IPv4Address("10.244.1.5"), IPv4Address(f"10.96.0.{host}"), 40000, port)
        verdict = nf.run_chain("filter", "OUTPUT", packet, PacketMeta(out_dev="eth0"))
        return (verdict.action, verdict.chain, verdict.rule_index, verdict.matched,
                verdict.rules_walked, nf.save(counters=True))

    saved = core.INDEX_MIN_RULES
    try:
        assert walk(1) == walk(10**9)
    finally:
        core.INDEX_MIN_RULES = saved
