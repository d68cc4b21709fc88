"""A chain held as its save lines behaves like one loaded by iptables-restore: the same save
text (with and without counters), the same walk, the same refusals, before and after its
rules are parsed."""

from __future__ import annotations

from ipaddress import IPv4Address
from random import Random

import pytest

from playground.net.chains import SharedChains
from playground.net.netfilter import IptablesError, Netfilter, PacketMeta
from playground.net.packet import tcp_syn
from playground.net.saved_chain import SavedChain, target_of

SERVICES = ['-d 10.96.0.1/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp '
            '--dport 80 -j KUBE-SVC-WEB']
SVC = ['-m comment --comment "default/web -> 10.244.1.5:8080" -m statistic --mode random '
       '--probability 0.50000000000 -j KUBE-SEP-ONE',
       '-m comment --comment "default/web -> 10.244.2.5:8080" -j KUBE-SEP-TWO']
SEP = {"KUBE-SEP-ONE": ['-s 10.244.1.5/32 -m comment --comment "default/web" '
                        "-j KUBE-MARK-MASQ",
                        '-p tcp -m comment --comment "default/web" -m tcp -j DNAT '
                        "--to-destination 10.244.1.5:8080"],
       "KUBE-SEP-TWO": ['-p tcp -m comment --comment "default/web" -m tcp -j DNAT '
                        "--to-destination 10.244.2.5:8080"]}


def chains() -> dict[str, list[str]]:
    return {"KUBE-MARK-MASQ": ["-j MARK --set-xmark 0x4000/0x4000"],
            "KUBE-SERVICES": SERVICES, "KUBE-SVC-WEB": SVC, **SEP}


def shared_node() -> tuple[Netfilter, SharedChains]:
    shared = SharedChains()
    for name, lines in chains().items():
        shared.set(name, SavedChain("nat", name, lines))
    nf = Netfilter()
    nf.share("nat", shared)
    nf.iptables("-t nat -A OUTPUT -j KUBE-SERVICES")
    return nf, shared


def restored_node() -> Netfilter:
    nf = Netfilter()
    text = ["*nat"] + [f":{name} - [0:0]" for name in chains()]
    text += ["-A OUTPUT -j KUBE-SERVICES"]
    text += [f"-A {name} {line}" for name, lines in chains().items() for line in lines]
    nf.restore("\n".join(text) + "\nCOMMIT\n")
    return nf


def send(nf: Netfilter):
    packet = tcp_syn(IPv4Address("10.244.9.9"), IPv4Address("10.96.0.1"), 40000, 80)
    return nf.run_chain("nat", "OUTPUT", packet, PacketMeta(out_dev="eth0", rng=Random(7)))


def test_saves_like_a_restored_table_before_and_after_a_walk() -> None:
    nf, shared = shared_node()
    plain = restored_node()
    assert not shared.chains["KUBE-SEP-ONE"].parsed
    assert nf.save(["nat"]) == plain.save(["nat"])
    assert nf.save(["nat"], counters=True) == plain.save(["nat"], counters=True)
    ours, theirs = send(nf), send(plain)
    assert (ours.action, ours.rule_text(), ours.rules_walked) == \
        (theirs.action, theirs.rule_text(), theirs.rules_walked)
    assert shared.chains["KUBE-SVC-WEB"].parsed
    assert nf.save(["nat"], counters=True) == plain.save(["nat"], counters=True)
    assert nf.save(["nat"]) == plain.save(["nat"])


def test_a_referenced_chain_is_not_deleted_and_a_loop_is_refused_without_parsing() -> None:
    nf, shared = shared_node()
    with pytest.raises(IptablesError, match="Too many links"):
        nf.iptables("-t nat -X KUBE-SEP-TWO")
    with pytest.raises(IptablesError, match="Too many levels"):
        nf.iptables("-t nat -A KUBE-SEP-TWO -j KUBE-SERVICES")
    assert not shared.chains["KUBE-SVC-WEB"].parsed and not shared.chains["KUBE-SEP-ONE"].parsed


def test_a_line_not_in_save_spelling_is_refused_when_parsed() -> None:
    chain = SavedChain("nat", "KUBE-SEP-X", ["-m statistic --mode random --probability 0.5 "
                                             "-j KUBE-MARK-MASQ"])
    with pytest.raises(ValueError, match="not how iptables-save prints it"):
        _ = chain.rules


def test_the_target_is_read_after_any_quoted_comment() -> None:
    assert target_of('-m comment --comment "a -j B" -j KUBE-SVC-X') == "KUBE-SVC-X"
    assert target_of("-p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80") == "DNAT"
    assert target_of("-g KUBE-FW-X") == "KUBE-FW-X"
    assert target_of("-m mark --mark 0x1") is None


def test_a_deep_copy_keeps_the_text_unparsed_and_shows_the_same() -> None:
    import copy

    nf, shared = shared_node()
    twin = copy.deepcopy(nf)
    chain = twin.table("nat").chains["KUBE-SVC-WEB"]
    assert not chain.parsed and not shared.chains["KUBE-SVC-WEB"].parsed
    assert twin.save(["nat"]) == nf.save(["nat"])
    assert send(twin).rule_text() == send(restored_node()).rule_text()
    assert chain.parsed and not shared.chains["KUBE-SVC-WEB"].parsed


def test_ipset_references_count_a_saved_set_rule_and_leave_the_others_unparsed() -> None:
    from playground.net.ipset import set_references

    nf, shared = shared_node()
    shared.set("KUBE-LB", SavedChain("nat", "KUBE-LB", [
        "-m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-MARK-MASQ"]))
    assert set_references(nf) == {"KUBE-LOAD-BALANCER": 1}
    assert not shared.chains["KUBE-SVC-WEB"].parsed and not shared.chains["KUBE-SEP-ONE"].parsed
