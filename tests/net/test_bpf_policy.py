"""The per-endpoint policy map and its lookup, in __policy_can_access's order: the peer's
identity, then the wildcard identity; a deny wins; else the longer protocol/port prefix; on
a tie the peer's own entry."""

from ipaddress import IPv4Address

from playground.net.bpf.enforce import identity_mark, identity_of_mark
from playground.net.bpf.ipcache import WORLD, Ipcache
from playground.net.bpf.policy import (
    DROP_POLICY,
    DROP_POLICY_DENY,
    FULL_BITS,
    PROTO_BITS,
    PolicyEntry,
    PolicyKey,
    PolicyMap,
    port_keys,
)

TCP, UDP = 6, 17


def mapped(*keys: PolicyKey, deny=()) -> PolicyMap:
    policy_map = PolicyMap(7)
    policy_map.replace({key: PolicyEntry(deny=key in deny, derived_from=(str(i),))
                        for i, key in enumerate(keys)})
    return policy_map


def test_nothing_matches_is_policy_denied():
    access = mapped(PolicyKey(300, "Ingress", TCP, 80, FULL_BITS)).can_access(
        301, "Ingress", TCP, 80)
    assert not access.allowed and access.reason == DROP_POLICY
    assert access.reason_text == "Policy denied"


def test_the_peer_and_port_exactly():
    policy_map = mapped(PolicyKey(300, "Ingress", TCP, 80, FULL_BITS))
    access = policy_map.can_access(300, "Ingress", TCP, 80)
    assert access.allowed and access.match == "L3-L4"
    assert not policy_map.can_access(300, "Ingress", TCP, 81).allowed
    assert not policy_map.can_access(300, "Ingress", UDP, 80).allowed
    assert not policy_map.can_access(300, "Egress", TCP, 80).allowed


def test_any_identity_on_a_port_when_the_peer_has_no_entry():
    access = mapped(PolicyKey(0, "Ingress", TCP, 80, FULL_BITS)).can_access(
        999, "Ingress", TCP, 80)
    assert access.allowed and access.match == "L4-only" and access.key.identity == 0


def test_the_longer_prefix_wins_between_peer_and_wildcard():
    l3_only = PolicyKey(300, "Ingress")
    l4_only = PolicyKey(0, "Ingress", TCP, 80, FULL_BITS)
    access = mapped(l3_only, l4_only).can_access(300, "Ingress", TCP, 80)
    assert access.key == l4_only and access.match == "L4-only"
    assert mapped(l3_only, l4_only).can_access(300, "Ingress", UDP, 53).key == l3_only


def test_on_a_tie_the_peers_own_entry_is_chosen():
    own, wildcard = PolicyKey(300, "Egress", TCP, 0, PROTO_BITS), \
        PolicyKey(0, "Egress", TCP, 0, PROTO_BITS)
    access = mapped(own, wildcard).can_access(300, "Egress", TCP, 443)
    assert access.key == own and access.match == "L3-proto"


def test_a_deny_wins_over_a_more_specific_allow():
    deny_all = PolicyKey(0, "Ingress")
    allow = PolicyKey(300, "Ingress", TCP, 80, FULL_BITS)
    access = mapped(allow, deny_all, deny={deny_all}).can_access(300, "Ingress", TCP, 80)
    assert not access.allowed and access.reason == DROP_POLICY_DENY
    assert access.reason_text == "Policy denied by denylist"


def test_the_allow_all_entry_matches_every_protocol():
    access = mapped(PolicyKey(0, "Ingress")).can_access(42, "Ingress", 1, 0)
    assert access.allowed and access.match == "all"


def test_a_port_range_is_written_as_prefix_blocks():
    keys = port_keys(0, "Ingress", TCP, 8080, 8090)
    assert [key.port_proto() for key in keys] == ["8080-8087/TCP", "8088-8089/TCP",
                                                  "8090/TCP"]
    policy_map = mapped(*keys)
    assert all(policy_map.can_access(5, "Ingress", TCP, port).allowed
               for port in range(8080, 8091))
    assert not policy_map.can_access(5, "Ingress", TCP, 8079).allowed
    assert not policy_map.can_access(5, "Ingress", TCP, 8091).allowed
    assert port_keys(0, "Ingress", UDP, 0, None) == [PolicyKey(0, "Ingress", UDP, 0, 8)]


def test_the_dump_sorts_and_prints_as_the_cli():
    policy_map = mapped(PolicyKey(300, "Egress", TCP, 80, FULL_BITS), PolicyKey(0, "Ingress"))
    text = policy_map.listing(lambda identity: {0: ["reserved:unknown"],
                                                300: ["k8s:app=web", "k8s:io.kubernetes.pod."
                                                      "namespace=default"]}[identity])
    lines = text.splitlines()
    assert lines[0].split() == ["POLICY", "DIRECTION", "LABELS", "(source:key[=value])",
                                "PORT/PROTO", "PROXY", "PORT", "AUTH", "TYPE", "BYTES",
                                "PACKETS", "PREFIX", "COOKIE"]
    assert lines[1].split() == ["Allow", "Ingress", "ANY", "ANY", "NONE", "disabled", "0",
                                "0", "0", "0"]
    assert lines[2].split() == ["Allow", "Egress", "k8s:app=web", "80/TCP", "NONE",
                                "disabled", "0", "0", "24", "0"]
    assert lines[3].split() == ["k8s:io.kubernetes.pod.namespace=default"]
    assert policy_map.name == "cilium_policy_v2_00007"
    assert PolicyMap(3).listing(lambda _: []).endswith(
        "Policy stats empty. Perhaps the policy enforcement is disabled?\n")


def test_the_ipcache_takes_the_longest_prefix_and_else_the_world():
    cache = Ipcache()
    cache.upsert("10.244.0.0/16", 6)
    cache.upsert("10.244.1.5/32", 4242, IPv4Address("172.18.0.3"))
    assert cache.identity_of(IPv4Address("10.244.1.5")) == 4242
    assert cache.identity_of(IPv4Address("10.244.1.6")) == 6
    assert cache.identity_of(IPv4Address("8.8.8.8")) == WORLD
    assert "10.244.1.5/32       identity=4242 encryptkey=0 tunnelendpoint=172.18.0.3 " \
           "flags=<none>" in cache.listing()


def test_an_identity_survives_the_skb_mark():
    for identity in (1, 256, 65535, 70000, 0xFFFFFF):  # 24 bits
        assert identity_of_mark(identity_mark(identity)) == identity
    assert identity_of_mark(0x4000) is None
