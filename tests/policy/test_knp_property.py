"""Property: on ptp, for random pods, labels, namespaces and policies, a trace's verdict
is what decide() says (the reachability matrix's cell), and a drop is the queue's."""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.netpol.evaluate import decide
from playground.cluster.netpol.model import (
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
)
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.netpol.view import PolicyView
from playground.cluster.objects import Container, ContainerPort, ObjectMeta

PODS = (("x", "a"), ("x", "b"), ("y", "a"), ("y", "b"))
NODES = ("kind-worker", "kind-worker2")
VALUES = ("a", "b", "c")
PORTS = (80, 81)

selectors = st.one_of(st.just(LabelSelector()),
                      st.sampled_from(VALUES).map(lambda v: LabelSelector({"pod": v})))
namespace_selectors = st.sampled_from(("x", "y")).map(
    lambda n: LabelSelector({"kubernetes.io/metadata.name": n}))
peers = st.one_of(
    selectors.map(lambda s: NetworkPolicyPeer(pod_selector=s)),
    namespace_selectors.map(lambda s: NetworkPolicyPeer(namespace_selector=s)),
    st.tuples(selectors, namespace_selectors).map(
        lambda t: NetworkPolicyPeer(pod_selector=t[0], namespace_selector=t[1])),
    st.sampled_from(("10.244.1.0/24", "10.244.2.0/24")).map(
        lambda c: NetworkPolicyPeer(ip_block=IPBlock(c))))
ports = st.lists(st.sampled_from((80, 81, "serve-80")).map(
    lambda p: NetworkPolicyPort(port=p)), max_size=1)
rules = st.lists(st.builds(NetworkPolicyRule, peers=st.lists(peers, max_size=2),
                           ports=ports), max_size=2)
specs = st.builds(NetworkPolicySpec, pod_selector=selectors, ingress=rules, egress=rules,
                  policy_types=st.sampled_from((["Ingress"], ["Egress"],
                                                ["Ingress", "Egress"])))
labs = st.fixed_dictionaries({
    "labels": st.lists(st.sampled_from(VALUES), min_size=4, max_size=4),
    "nodes": st.lists(st.sampled_from(NODES), min_size=4, max_size=4),
    "policies": st.lists(st.tuples(st.sampled_from(("x", "y")), specs), max_size=3),
    "port": st.sampled_from(PORTS)})


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(labs)
def test_a_trace_on_ptp_agrees_with_decide(case):
    checked = asyncio.run(_check(case))
    assert checked == len(PODS) * (len(PODS) - 1)


async def _check(case) -> int:
    checked = 0
    lab = await build_default_lab(cni="ptp")
    try:
        serving = [Container("srv", ports=[ContainerPort(80, "serve-80"), ContainerPort(81)])]
        for (namespace, name), value, node in zip(PODS, case["labels"], case["nodes"],
                                                  strict=True):
            await lab.add_namespace(namespace)
            await lab.add_pod(name, serving, namespace, labels={"pod": value},
                              node_name=node)
        for index, (namespace, spec) in enumerate(case["policies"]):
            lab.api.create(NetworkPolicy(ObjectMeta(f"p{index}", namespace), spec))
        await lab.settle()
        view = PolicyView.from_api(lab.api)
        for src in PODS:
            for dst in PODS:
                if src == dst:
                    continue
                a, b = view.pod(*src), view.pod(*dst)
                decision = decide(view, a, b, "TCP", case["port"])
                trace = send(lab, f"pod/{src[0]}/{src[1]}", f"pod/{dst[0]}/{dst[1]}", "tcp",
                             case["port"])
                expected = "delivered" if decision.allowed else "dropped"
                assert trace.verdict == expected, (src, dst, decision.why, trace.reason)
                if not decision.allowed:
                    assert "kube-network-policies (queue 100)" in trace.reason
                    assert decision.why in trace.reason
                checked += 1
    finally:
        await lab.stop()
    return checked
