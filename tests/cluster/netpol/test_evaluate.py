"""decide() on hand-built views: isolation, AND versus OR peers, ipBlock, ports, and the
explanations (the allowing rule path; every selecting policy and the closest miss)."""

from playground.cluster.netpol.evaluate import decide, selected_pods
from playground.cluster.netpol.model import (
    EGRESS,
    INGRESS,
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
    default_policy_types,
)
from playground.cluster.netpol.selectors import LabelSelector, namespace_labels
from playground.cluster.netpol.view import NamedPort, Peer, PolicyView
from playground.cluster.objects import LabelSelectorRequirement, ObjectMeta


def pod(ns, name, ip, ports=(), **labels):
    return Peer(ip, ns, name, tuple(sorted(labels.items())), tuple(ports))


WEB = pod("x", "web", "10.244.1.2", (NamedPort("http", "TCP", 8080),), app="web")
API = pod("x", "api", "10.244.1.3", app="api")
OTHER = pod("y", "api", "10.244.2.3", app="api")
OUTSIDE = Peer("172.18.0.1")


def policy(name, ns="x", selector=None, ingress=None, egress=None, types=None):
    spec = NetworkPolicySpec(selector or LabelSelector(), ingress or [], egress or [])
    spec.policy_types = default_policy_types(spec, types)
    return NetworkPolicy(ObjectMeta(name, ns), spec)


def view(*policies):
    return PolicyView(list(policies), {"x": namespace_labels("x", {"team": "x"}),
                                       "y": namespace_labels("y", {"team": "y"})},
                      [WEB, API, OTHER])


def test_no_policy_allows_and_says_not_isolated():
    d = decide(view(), API, WEB, "TCP", 8080)
    assert d.allowed and d.ingress.selecting == () and "not isolated" in d.ingress.why


def test_deny_all_names_the_policy_and_has_no_rules():
    d = decide(view(policy("deny-all")), API, WEB, "TCP", 8080)
    assert not d.allowed and d.ingress.selecting == ("x/deny-all",)
    assert d.ingress.allowed_by is None and "x/deny-all has no ingress rules" in d.ingress.why
    assert d.egress.allowed   # Ingress only, by default


def test_policy_types_default_adds_egress_only_with_egress_rules():
    assert default_policy_types(NetworkPolicySpec(), None) == [INGRESS]
    spec = NetworkPolicySpec(egress=[NetworkPolicyRule()])
    assert default_policy_types(spec, None) == [INGRESS, EGRESS]
    assert default_policy_types(spec, [EGRESS]) == [EGRESS]


def test_allow_names_rule_and_port_paths():
    rule = NetworkPolicyRule([NetworkPolicyPeer(ip_block=IPBlock("192.0.2.0/24")),
                              NetworkPolicyPeer(LabelSelector({"app": "api"}))],
                             [NetworkPolicyPort("UDP", 53), NetworkPolicyPort("TCP", "http")])
    d = decide(view(policy("allow-api", ingress=[rule])), API, WEB, "TCP", 8080)
    assert d.allowed
    assert str(d.ingress.allowed_by) == "x/allow-api ingress[0].from[1] ports[1]"


def test_closest_miss_says_what_the_source_has():
    rule = NetworkPolicyRule([NetworkPolicyPeer(LabelSelector({"app": "api"}))])
    web2 = pod("x", "web-2", "10.244.1.9", app="web")
    d = decide(view(policy("allow-api", ingress=[rule])), web2, WEB, "TCP", 80)
    assert not d.allowed
    assert "x/allow-api ingress[0] allows from app=api; the source has app=web" in d.why


def test_port_miss_is_closer_than_peer_miss():
    near = NetworkPolicyRule([NetworkPolicyPeer(LabelSelector({"app": "api"}))],
                             [NetworkPolicyPort("TCP", 81)])
    far = NetworkPolicyRule([NetworkPolicyPeer(LabelSelector({"app": "db"}))])
    d = decide(view(policy("a", ingress=[far]), policy("b", ingress=[near])), API, WEB,
               "TCP", 80)
    assert d.ingress.selecting == ("x/a", "x/b")
    assert "x/b ingress[0] allows TCP 81 only; the connection is to TCP 80" in d.why


def test_pod_selector_alone_is_the_policy_namespace_only():
    rule = NetworkPolicyRule([NetworkPolicyPeer(LabelSelector({"app": "api"}))])
    d = decide(view(policy("p", ingress=[rule])), OTHER, WEB, "TCP", 80)
    assert not d.allowed and "is in namespace y" in d.why


def test_and_in_one_peer_or_in_two():
    team_y = LabelSelector({"team": "y"})
    app_db = LabelSelector({"app": "db"})
    both = NetworkPolicyRule([NetworkPolicyPeer(app_db, team_y)])
    either = NetworkPolicyRule([NetworkPolicyPeer(namespace_selector=team_y),
                                NetworkPolicyPeer(app_db)])
    assert not decide(view(policy("and", ingress=[both])), OTHER, WEB, "TCP", 80).allowed
    d = decide(view(policy("or", ingress=[either])), OTHER, WEB, "TCP", 80)
    assert d.allowed and d.ingress.allowed_by.rule == "ingress[0].from[0]"


def test_namespace_name_label_and_expressions():
    by_name = LabelSelector(match_expressions=[
        LabelSelectorRequirement("kubernetes.io/metadata.name", "In", ["y"])])
    rule = NetworkPolicyRule([NetworkPolicyPeer(namespace_selector=by_name)])
    v = view(policy("p", ingress=[rule]))
    assert decide(v, OTHER, WEB, "TCP", 80).allowed
    assert not decide(v, API, WEB, "TCP", 80).allowed


def test_ip_block_except_and_pod_addresses():
    rule = NetworkPolicyRule([NetworkPolicyPeer(ip_block=IPBlock("10.244.0.0/16",
                                                                 ["10.244.2.0/24"]))])
    v = view(policy("p", ingress=[rule]))
    assert decide(v, API, WEB, "TCP", 80).allowed   # a pod's address is in the block
    d = decide(v, OTHER, WEB, "TCP", 80)
    assert not d.allowed and "in the exception 10.244.2.0/24" in d.why
    assert not decide(v, OUTSIDE, WEB, "TCP", 80).allowed


def test_end_port_range_and_protocol():
    rule = NetworkPolicyRule(ports=[NetworkPolicyPort("TCP", 80, 82)])
    v = view(policy("p", ingress=[rule]))
    assert [decide(v, API, WEB, "TCP", p).allowed for p in (79, 80, 82, 83)] == \
        [False, True, True, False]
    assert not decide(v, API, WEB, "UDP", 80).allowed


def test_named_port_resolves_against_the_destination():
    rule = NetworkPolicyRule(ports=[NetworkPolicyPort("TCP", "http")])
    v = view(policy("p", ingress=[rule]))
    assert decide(v, API, WEB, "TCP", 8080).allowed
    assert not decide(v, API, WEB, "TCP", 80).allowed
    assert not decide(v, API, WEB, "UDP", 8080).allowed   # the name is a TCP port's


def test_egress_at_the_source_and_both_must_allow():
    deny_egress = policy("deny-egress", selector=LabelSelector({"app": "api"}),
                         types=[EGRESS])
    d = decide(view(deny_egress), API, WEB, "TCP", 80)
    assert not d.allowed and not d.egress.allowed and d.ingress.allowed
    assert d.egress.selecting == ("x/deny-egress",) and d.why.startswith("egress denied")
    assert decide(view(deny_egress), WEB, API, "TCP", 80).allowed


def test_non_pods_are_not_isolated_and_match_no_selectors():
    everyone = NetworkPolicyRule([NetworkPolicyPeer(namespace_selector=LabelSelector())])
    d = decide(view(policy("p", ingress=[everyone])), OUTSIDE, WEB, "TCP", 80)
    assert not d.allowed and "172.18.0.1 is no pod" in d.why
    assert decide(view(policy("p")), WEB, OUTSIDE, "TCP", 80).allowed


def test_selected_pods():
    v = view(policy("p", selector=LabelSelector({"app": "api"})))
    assert [str(p) for p in selected_pods(v, v.policies[0])] == ["x/api"]


def test_the_pods_own_node_is_always_allowed():
    here = Peer(WEB.ip, WEB.namespace, WEB.name, WEB.labels, WEB.ports, "kind-worker")
    v = PolicyView([policy("deny-all", ingress=[], egress=[])], {}, [here],
                   {"172.18.0.2": "kind-worker", "172.18.0.3": "kind-worker2"})
    own, other = v.peer_at("172.18.0.2"), v.peer_at("172.18.0.3")
    assert own.node == "kind-worker" and not own.is_pod
    d = decide(v, own, here, "TCP", 80)
    assert d.allowed and "is the node x/web runs on" in d.ingress.why
    assert decide(v, here, own, "TCP", 10250).allowed
    assert not decide(v, other, here, "TCP", 80).allowed
