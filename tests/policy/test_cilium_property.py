"""For random labels, namespace labels and policies on a cilium lab, a trace is dropped for
"Policy denied" exactly when the reachability matrix (decide()) denies the cell.

One lab for the module, on its own event loop; each example sets the labels, replaces the
policies, settles, and traces pods against each other. Pod selectors, namespace selectors
(alone and with a pod selector), numeric, ranged and named ports and both directions are
drawn; ipBlocks are not, as Cilium reads them its own way (they select no pod).
"""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.netpol.model import (
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
)
from playground.cluster.netpol.reach import matrix
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.netpol.view import PolicyView
from playground.cluster.objects import Container, ContainerPort, ObjectMeta

NAMESPACES = ("x", "y")
PODS = (("x", "a"), ("x", "b"), ("y", "a"))
FLOWS = (("tcp", 80), ("tcp", 81), ("udp", 53))
LOOP = asyncio.new_event_loop()


async def build():
    lab = await build_default_lab(cni="cilium")
    for ns in NAMESPACES:
        await lab.add_namespace(ns)
    for ns, name in PODS:
        await lab.add_pod(name, [Container("serve", "agnhost", [
            ContainerPort(80, "http"), ContainerPort(81, "alt"),
            ContainerPort(53, "dns", "UDP")])], namespace=ns, labels={"pod": name})
    return lab


LAB = LOOP.run_until_complete(build())

labels = st.fixed_dictionaries({}, optional={"app": st.sampled_from("ab"),
                                             "tier": st.just("front")})
selector = labels  # a selector's matchLabels are drawn from the labels pods may have
team = st.fixed_dictionaries({}, optional={"team": st.sampled_from(["red", "blue"])})


def make_selector(match):
    return LabelSelector(dict(match))


peer = st.one_of(
    st.builds(lambda pods: NetworkPolicyPeer(pod_selector=make_selector(pods)), selector),
    st.builds(lambda spaces: NetworkPolicyPeer(namespace_selector=make_selector(spaces)), team),
    st.builds(lambda pods, spaces: NetworkPolicyPeer(pod_selector=make_selector(pods),
                                                     namespace_selector=make_selector(spaces)),
              selector, team))
port = st.sampled_from([NetworkPolicyPort("TCP", 80), NetworkPolicyPort("UDP", 53),
                        NetworkPolicyPort("TCP", 79, 80), NetworkPolicyPort("TCP", "alt"),
                        NetworkPolicyPort("TCP", None)])
rule = st.builds(NetworkPolicyRule, st.lists(peer, max_size=2), st.lists(port, max_size=2))


@st.composite
def policies(draw):
    found = []
    for index in range(draw(st.integers(1, 2))):
        types = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        spec = NetworkPolicySpec(make_selector(draw(selector)),
                                 draw(st.lists(rule, max_size=2)) if "Ingress" in types else [],
                                 draw(st.lists(rule, max_size=2)) if "Egress" in types else [],
                                 types)
        found.append(NetworkPolicy(ObjectMeta(f"p{index}", draw(st.sampled_from(NAMESPACES))),
                                   spec))
    return found


async def scenario(pod_labels, ns_labels, chosen):
    for policy in LAB.network_policies():
        await LAB.delete_network_policy(policy.name, policy.metadata.namespace)
    for ns, given_labels in zip(NAMESPACES, ns_labels, strict=True):
        await LAB.add_namespace(ns, dict(given_labels))
    for (ns, name), given_labels in zip(PODS, pod_labels, strict=True):
        LAB.api.change("Pod", ns, name, lambda pod, extra=given_labels, name=name: setattr(
            pod.metadata, "labels", {"pod": name, **extra}))
    for policy in chosen:
        await LAB.add_network_policy(policy)
    await LAB.settle()
    wrong = []
    for proto, number in FLOWS:
        cells = matrix(PolicyView.from_api(LAB.api), proto.upper(), number, list(NAMESPACES))
        for src_ns, src in PODS:
            for dst_ns, dst in PODS:
                if (src_ns, src) == (dst_ns, dst):
                    continue
                trace = send(LAB, f"pod/{src_ns}/{src}", f"pod/{dst_ns}/{dst}", proto, number)
                denied = any(hop.drop_reason == "Policy denied" for hop in trace.hops)
                allowed = cells.allowed(f"{src_ns}/{src}", f"{dst_ns}/{dst}")
                if denied == allowed:
                    wrong.append((f"{src_ns}/{src}", f"{dst_ns}/{dst}", proto, number, allowed,
                                  trace.text()))
    return wrong


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(labels, labels, labels), st.tuples(team, team), policies())
def test_a_cilium_trace_agrees_with_the_matrix(pod_labels, ns_labels, chosen):
    wrong = LOOP.run_until_complete(scenario(pod_labels, ns_labels, chosen))
    assert not wrong, wrong[0]
