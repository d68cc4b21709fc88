"""Kubernetes' own NetworkPolicy e2e cases, each asserting the whole 9x9 truth table.

From kubernetes/kubernetes test/e2e/network/netpol/network_policy.go at commit
9db638c0807a720aa050ebcef69c32e4d4cce280 (model.go at 95f08499, policies.go' SetSpec*Rules):
the same policies over pods x/a..z/c on ports 80 and 81, TCP and the UDP and SCTP variants,
the same expected reachability, loopback left out as there. One lab for the module; every
policy goes through the manifest reader, validation and the API store; the matrix is the
evaluator's (decide()) over PolicyView.from_api.
"""

import pytest
import pytest_asyncio
from netpol_model import (
    META_NAME,
    Reachability,
    check,
    create,
    model_lab,
    ns_label,
    pod_label,
    policy,
    reset,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def model():
    lab = await model_lab()
    yield lab
    await lab.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def lab(model):
    await reset(model)
    yield model


def ip(lab, ns, name):
    return lab.find_pod(name, ns).status.pod_ip


async def test_default_deny_ingress(lab):
    await create(lab, policy("deny-ingress", ingress=[]), "x")
    check(lab, "TCP", 80, Reachability().peer("", "x", False))


async def test_default_deny_all(lab):
    await create(lab, policy("deny-all", ingress=[], egress=[]), "x")
    check(lab, "TCP", 80, Reachability().peer("", "x", False).peer("x", "", False))


async def test_allow_from_pods_within_namespace_by_pod_selector(lab):
    await create(lab, policy("x-a-allows-x-b", pod_label("a"),
                             [{"from": [{"podSelector": pod_label("b")}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False).expect("x/b", "x/a", True))


async def test_allow_ingress_for_a_target(lab):
    await create(lab, policy("deny-all", ingress=[]), "x")
    await create(lab, policy("allow-all-to-a", pod_label("a"),
                             [{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", True).all_ingress("x/b", False)
          .all_ingress("x/c", False))


async def test_allow_ingress_from_pods_in_all_namespaces(lab):
    await create(lab, policy("allow-from-another-ns", pod_label("a"),
                             [{"from": [{"namespaceSelector": {"matchLabels": {}}}]}]), "x")
    check(lab, "TCP", 80, Reachability())


async def test_allow_only_from_a_different_namespace(lab):
    await create(lab, policy("allow-client-a-via-ns-selector", pod_label("a"),
                             [{"from": [{"namespaceSelector": ns_label("y")}]}]), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "x/a", False).peer("z", "x/a", False))


async def test_pod_selector_with_match_expressions(lab):
    selector = {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b"]}]}
    await create(lab, policy("x-a-allows-x-b", pod_label("a"),
                             [{"from": [{"podSelector": selector}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False).expect("x/b", "x/a", True))


async def test_namespace_selector_with_match_expressions(lab):
    selector = {"matchExpressions": [{"key": META_NAME, "operator": "In", "values": ["y"]}]}
    await create(lab, policy("allow-ns-y-match-selector", pod_label("a"),
                             [{"from": [{"namespaceSelector": selector}]}]), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "x/a", False).peer("z", "x/a", False))


NOT_X = {"matchExpressions": [{"key": META_NAME, "operator": "NotIn", "values": ["x"]}]}


async def test_pod_selector_or_namespace_selector(lab):
    await create(lab, policy("allow-ns-y-match-selector", pod_label("a"),
                             [{"from": [{"namespaceSelector": NOT_X},
                                        {"podSelector": pod_label("b")}]}]), "x")
    check(lab, "TCP", 80, Reachability().expect("x/a", "x/a", False)
          .expect("x/c", "x/a", False))


async def test_pod_selector_and_namespace_selector(lab):
    await create(lab, policy("allow-ns-y-podselector-and-nsselector", pod_label("a"),
                             [{"from": [{"namespaceSelector": NOT_X,
                                         "podSelector": pod_label("b")}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False)
          .expect("y/b", "x/a", True).expect("z/b", "x/a", True))


async def test_multiple_pod_selectors_and_namespace_selectors(lab):
    b_or_c = {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]}
    await create(lab, policy("allow-ns-y-z-pod-b-c", pod_label("a"),
                             [{"from": [{"namespaceSelector": NOT_X,
                                         "podSelector": b_or_c}]}]), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "x/a", False)
          .expect("y/a", "x/a", False).expect("z/a", "x/a", False))


async def test_any_pod_selectors(lab):
    await create(lab, policy("allow-ns-x-pod-b-c", pod_label("a"),
                             [{"from": [{"podSelector": pod_label("b")},
                                        {"podSelector": pod_label("c")}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False)
          .expect("x/b", "x/a", True).expect("x/c", "x/a", True))


Y_A = [{"from": [{"namespaceSelector": ns_label("y"), "podSelector": pod_label("a")}]}]


@pytest.mark.parametrize("protocol", ["TCP", "UDP", "SCTP"])
async def test_only_from_a_pod_in_another_namespace(lab, protocol):
    await create(lab, policy("allow-ns-y-pod-a-via-namespace-pod-selector", pod_label("a"),
                             Y_A), "x")
    check(lab, protocol, 80, Reachability().all_ingress("x/a", False)
          .expect("y/a", "x/a", True))


def from_y_on(port, protocol="TCP"):
    return [{"from": [{"namespaceSelector": ns_label("y")}],
             "ports": [{"port": port, "protocol": protocol}]}]


async def test_ports(lab):
    await create(lab, policy("allow-client-a-via-ns-selector", pod_label("a"),
                             from_y_on(81)), "x")
    check(lab, "TCP", 81, Reachability().peer("x", "x/a", False).peer("y", "x/a", True)
          .peer("z", "x/a", False))


@pytest.mark.parametrize("protocol", ["UDP", "SCTP"])
async def test_ports_udp_sctp(lab, protocol):
    await create(lab, policy("allow-ingress-on-port-81-ns-x", pod_label("a"),
                             from_y_on(81, protocol)), "x")
    check(lab, protocol, 81, Reachability().peer("x", "x/a", False).peer("z", "x/a", False))


async def test_stacked_policies_with_overlapping_pod_selectors(lab):
    await create(lab, policy("allow-client-a-via-ns-selector", pod_label("a"),
                             from_y_on(81)), "x")
    allow = Reachability().peer("x", "x/a", False).peer("y", "x/a", True) \
        .peer("z", "x/a", False)
    check(lab, "TCP", 81, allow)
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False))
    await create(lab, policy("allow-client-a-via-ns-selector-80", pod_label("a"),
                             from_y_on(80)), "x")
    check(lab, "TCP", 80, allow)


async def test_allow_all(lab):
    await create(lab, policy("allow-all", {}, [{}]), "x")
    check(lab, "TCP", 80, Reachability())
    check(lab, "TCP", 81, Reachability())


async def test_ingress_on_one_named_port(lab):
    await create(lab, policy("allow-all", {}, [{"ports": [{"port": "serve-81-tcp"}]}]), "x")
    check(lab, "TCP", 81, Reachability())
    check(lab, "TCP", 80, Reachability().peer("", "x", False))


async def test_ingress_from_namespace_on_one_named_port(lab):
    await create(lab, policy("allow-client-a-via-ns-selector-80", pod_label("a"),
                             from_y_on("serve-80-tcp")), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "x/a", False).peer("z", "x/a", False))
    check(lab, "TCP", 81, Reachability().all_ingress("x/a", False))


async def test_egress_on_one_named_port(lab):
    await create(lab, policy("allow-egress", {}, egress=[{"ports": [{"port": "serve-80-tcp"}]}]),
                 "x")
    check(lab, "TCP", 80, Reachability())
    check(lab, "TCP", 81, Reachability().peer("x", "", False))


async def test_updated_policy(lab):
    allow = policy("allow-all-mutate-to-deny-all", {}, [{}])
    await create(lab, allow, "x")
    check(lab, "TCP", 81, Reachability())
    allow["spec"]["ingress"] = []
    await create(lab, allow, "x")
    check(lab, "TCP", 81, Reachability().peer("", "x", False))


async def test_ingress_from_updated_namespace(lab):
    await create(lab, policy("allow-client-a-via-ns-selector", pod_label("a"),
                             [{"from": [{"namespaceSelector":
                                         {"matchLabels": {"ns2": "updated"}}}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False))
    await lab.add_namespace("y", {"ns2": "updated"})
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False).peer("y", "", True))


def relabel(lab, ns, name, labels):
    lab.api.change("Pod", ns, name, lambda pod: pod.metadata.labels.update(labels))


async def test_ingress_from_updated_pod(lab):
    labels = {"pod": "b", "pod2": "updated"}
    await create(lab, policy("allow-client-a-via-pod-selector", pod_label("a"),
                             [{"from": [{"podSelector": {"matchLabels": labels}}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False))
    relabel(lab, "x", "b", labels)
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False).expect("x/b", "x/a", True))


async def test_deny_ingress_from_pods_on_other_namespaces(lab):
    await create(lab, policy("deny-empty-policy", {},
                             [{"from": [{"podSelector": {"matchLabels": {}}}]}]), "x")
    check(lab, "TCP", 80, Reachability().peer("y", "x", False).peer("z", "x", False))


async def test_deny_ingress_to_updated_pod(lab):
    await create(lab, policy("deny-ingress-via-label-selector",
                             {"matchLabels": {"target": "isolated"}}, []), "x")
    check(lab, "TCP", 80, Reachability())
    relabel(lab, "x", "a", {"target": "isolated"})
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False))


async def test_deny_egress_by_pod_selector(lab):
    await create(lab, policy("deny-egress-pod-a", pod_label("a"), egress=[]), "x")
    check(lab, "TCP", 80, Reachability().all_egress("x/a", False))


async def test_deny_egress_from_all_pods_in_a_namespace(lab):
    await create(lab, policy("deny-egress-ns-x", {}, egress=[]), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "", False))


async def test_ingress_and_egress_together(lab):
    await create(lab, policy("allow-client-a-via-pod-selector", pod_label("a"),
                             [{"from": [{"podSelector": pod_label("b")}]}],
                             [{"ports": [{"port": 80}]}], types=["Egress", "Ingress"]), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False).expect("x/b", "x/a", True))
    check(lab, "TCP", 81, Reachability().all_ingress("x/a", False).all_egress("x/a", False)
          .expect("x/b", "x/a", True))


async def test_egress_denied_at_the_client_even_if_the_server_allows(lab):
    await create(lab, policy("allow-to-ns-y-pod-a", pod_label("a"), egress=[
        {"to": [{"namespaceSelector": ns_label("y"), "podSelector": pod_label("a")}]}]), "x")
    from_x_a = [{"from": [{"namespaceSelector": ns_label("x"), "podSelector": pod_label("a")}]}]
    await create(lab, policy("allow-from-xa-on-ya-match-selector", pod_label("a"), from_x_a),
                 "y")
    await create(lab, policy("allow-from-xa-on-yb-match-selector", pod_label("b"), from_x_a),
                 "y")
    check(lab, "TCP", 80, Reachability().peer("x/a", "", False).peer("", "y/a", False)
          .peer("x/a", "y/a", True).peer("", "y/b", False))


async def test_egress_to_a_server_in_another_namespace(lab):
    await create(lab, policy("allow-to-ns-y-pod-a", pod_label("a"), egress=[
        {"to": [{"namespaceSelector": ns_label("y"), "podSelector": pod_label("a")}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_egress("x/a", False).expect("x/a", "y/a", True))


async def test_ingress_any_port_on_one_protocol(lab):
    await create(lab, policy("allow-ingress-by-proto", pod_label("a"),
                             [{"ports": [{"protocol": "TCP"}]}]), "x")
    check(lab, "TCP", 80, Reachability())
    check(lab, "UDP", 80, Reachability().peer("", "x/a", False))


async def test_ingress_allow_all_takes_precedence(lab):
    await create(lab, policy("allow-ingress-port-80", {}, [{"ports": [{"port": 80}]}]), "x")
    check(lab, "TCP", 81, Reachability().peer("", "x", False))
    await create(lab, policy("allow-ingress", {}, [{}]), "x")
    check(lab, "TCP", 81, Reachability())


async def test_egress_allow_all_takes_precedence(lab):
    await create(lab, policy("allow-egress-port-80", {}, egress=[{"ports": [{"port": 80}]}]),
                 "x")
    check(lab, "TCP", 81, Reachability().peer("x", "", False))
    await create(lab, policy("allow-egress", {}, egress=[{}]), "x")
    check(lab, "TCP", 81, Reachability())


async def test_stop_enforcing_after_delete(lab):
    await create(lab, policy("deny-all", {}, [], []), "x")
    check(lab, "TCP", 80, Reachability().peer("x", "", False).peer("", "x", False))
    await lab.delete_network_policy("deny-all", "x")
    check(lab, "TCP", 80, Reachability())


async def test_egress_to_a_server_in_a_cidr_block(lab):
    await create(lab, policy("allow-client-a-via-cidr-egress-rule", pod_label("a"), egress=[
        {"to": [{"ipBlock": {"cidr": f"{ip(lab, 'y', 'b')}/32"}}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_egress("x/a", False).expect("x/a", "y/b", True))


def except_b(lab):
    return policy("allow-client-a-via-cidr-egress-rule", pod_label("a"), egress=[
        {"to": [{"ipBlock": {"cidr": f"{ip(lab, 'x', 'a')}/4",
                             "except": [f"{ip(lab, 'x', 'b')}/32"]}}]}])


async def test_except_clause_in_a_cidr_block(lab):
    await create(lab, except_b(lab), "x")
    check(lab, "TCP", 80, Reachability().expect("x/a", "x/b", False))


async def test_ip_in_both_cidr_and_except_then_allowed(lab):
    await create(lab, except_b(lab), "x")
    check(lab, "TCP", 80, Reachability().expect("x/a", "x/b", False))
    await create(lab, policy("allow-client-a-via-cidr-egress-rule", pod_label("a"), egress=[
        {"to": [{"ipBlock": {"cidr": f"{ip(lab, 'x', 'b')}/32"}}]}]), "x")
    check(lab, "TCP", 80, Reachability().all_egress("x/a", False).expect("x/a", "x/b", True))


async def test_ingress_and_egress_controlled_independently(lab):
    await create(lab, policy("allow-egress-for-target", pod_label("a"), egress=[{}]), "x")
    check(lab, "TCP", 80, Reachability())
    await create(lab, policy("deny-ingress-via-label-selector", pod_label("a"), []), "x")
    check(lab, "TCP", 80, Reachability().all_ingress("x/a", False))


async def test_sctp_is_not_tcp(lab):
    await create(lab, policy("deny-ingress", {}, []), "x")
    await create(lab, policy("allow-only-sctp-ingress-on-port-81", pod_label("a"),
                             [{"ports": [{"port": 81, "protocol": "SCTP"}]}]), "x")
    check(lab, "TCP", 81, Reachability().peer("", "x", False))


async def test_a_policy_allowing_sctp_still_isolates(lab):
    await create(lab, policy("allow-only-sctp-ingress-on-port-80", pod_label("a"),
                             [{"ports": [{"port": 80, "protocol": "SCTP"}]}]), "x")
    check(lab, "TCP", 81, Reachability().all_ingress("x/a", False))


async def test_udp_only_policy_blocks_tcp(lab):
    await create(lab, policy("allow-only-udp-ingress-on-port-81", pod_label("a"),
                             [{"ports": [{"port": 81, "protocol": "UDP"}]}]), "x")
    check(lab, "TCP", 81, Reachability().all_ingress("x/a", False))


async def test_namespace_match_labels_on_the_default_label(lab):
    await create(lab, policy("allow-client-a-via-ns-selector-for-immutable-ns-label",
                             pod_label("a"), [{"from": [{"namespaceSelector": ns_label("y")}]}]),
                 "x")
    check(lab, "TCP", 80, Reachability().peer("x", "x/a", False).peer("z", "x/a", False))


async def test_namespace_match_expressions_on_the_default_label(lab):
    not_y = {"matchExpressions": [{"key": META_NAME, "operator": "NotIn", "values": ["y"]}]}
    await create(lab, policy("allow-ns-y-match-selector-for-immutable-ns-label", pod_label("a"),
                             egress=[{"to": [{"namespaceSelector": not_y}]}]), "x")
    check(lab, "TCP", 80, Reachability().peer("x/a", "y", False))


@pytest.mark.parametrize("protocol", ["UDP", "SCTP"])
async def test_default_deny_ingress_udp_sctp(lab, protocol):
    await create(lab, policy("deny-all", {}, []), "x")
    check(lab, protocol, 80, Reachability().peer("", "x", False))

