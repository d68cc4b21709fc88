"""The cilium engine: identities from label sets, per-endpoint policy maps the agent writes,
egress checked at the source's from-container, ingress at the destination's to-container,
the source identity in the VNI across a tunnel, and hops that name the policy."""

import pytest

from playground.cluster.cilium_views import cilium_view
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.netpol.model import (
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
)
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import ObjectMeta


@pytest.fixture
async def cilium():
    cluster = await build_default_lab(cni="cilium")
    yield cluster
    await cluster.stop()


@pytest.fixture
async def tunnel():
    cluster = await build_default_lab(cni="cilium-vxlan")
    yield cluster
    await cluster.stop()


def policy(name, selector, ingress=None, egress=None, types=("Ingress",), namespace="default"):
    spec = NetworkPolicySpec(LabelSelector(selector), ingress or [], egress or [], list(types))
    return NetworkPolicy(ObjectMeta(name, namespace), spec)


def from_app(app, port=None):
    ports = [NetworkPolicyPort("TCP", port)] if port else []
    return [NetworkPolicyRule([NetworkPolicyPeer(pod_selector=LabelSelector({"app": app}))],
                              ports)]


def bpf(trace, program):
    return [hop for hop in trace.hops if hop.program and hop.program.startswith(program)]


def identity(lab, ip):
    datapaths = lab.cni.datapaths.values()
    return next(d.enforcement.ipcache.identity_of(ip) for d in datapaths)


async def apply(lab, *policies):
    for item in policies:
        lab.api.create(item)
    await lab.settle()


async def test_a_denied_flow_drops_at_the_destination_and_names_the_policy(cilium):
    await apply(cilium, policy("web-from-api", {"app": "web"}, from_app("api", 80)))
    trace = send(cilium, "pod/client", "pod/web-1", "tcp", 80)
    assert trace.verdict == "dropped" and trace.reason.endswith(": Policy denied")
    hop = bpf(trace, "cil_to_container")[0]
    assert hop.where == "node/kind-worker2" and hop.drop_reason == "Policy denied"
    client, web = identity(cilium, trace.packet.src), identity(cilium, trace.packet.dst)
    assert (hop.src_identity, hop.dst_identity) == (client, web) and client >= 256
    assert f"is identity {client}" in hop.detail
    assert "no entry of cilium_policy_v2_00001 matches" in hop.detail
    assert "default/web-1 is isolated by default/web-from-api" in hop.detail
    assert "(default/web-from-api ingress[0] allows from app=api; the source has " \
           "app=client)" in hop.detail
    assert hop.map_entry == (f"cilium_policy_v2_00001: no Ingress entry for identity "
                             f"{client} or ANY on TCP/80")
    assert trace.to_dict()["hops"][hop.index - 1]["drop_reason"] == "Policy denied"
    # the source's egress was not isolated: its map has the allow-all entry
    assert "Allow Egress ANY ANY" in bpf(trace, "cil_from_container")[0].map_entry


async def test_an_allowed_flow_names_the_entry_and_the_rule_and_its_reply_passes(cilium):
    await apply(cilium, policy("web-from-client", {"app": "web"}, from_app("client", 80)))
    trace = send(cilium, "pod/client", "pod/web-1", "tcp", 80)
    assert trace.verdict == "delivered"
    hop = bpf(trace, "cil_to_container")[0]
    client = identity(cilium, trace.packet.src)
    assert hop.map_entry.startswith(f"cilium_policy_v2_00001 Allow Ingress identity {client} "
                                    "80/TCP")
    assert "allows it (L3-L4 match: default/web-from-client ingress[0].from[0] ports[0])" \
        in hop.detail
    reply = cilium.network.reply(trace)
    assert reply.verdict == "delivered"
    assert all("replies pass" in h.detail for h in bpf(reply, "cil_") if "container" in h.program)
    assert send(cilium, "pod/client", "pod/web-1", "tcp", 8080).verdict == "dropped"


async def test_egress_is_checked_at_the_source_before_the_packet_leaves(cilium):
    egress = [NetworkPolicyRule([NetworkPolicyPeer(pod_selector=LabelSelector({"app": "x"}))])]
    await apply(cilium, policy("client-out", {"app": "client"}, egress=egress,
                               types=("Egress",)))
    trace = send(cilium, "pod/client", "pod/web-2", "tcp", 80)
    hop = bpf(trace, "cil_from_container")[0]
    assert trace.verdict == "dropped" and hop.drop_reason == "Policy denied"
    assert hop.index == trace.hops[-1].index and "egress denied: default/client is " \
        "isolated by default/client-out" in hop.detail
    rows = cilium_view(cilium, "node/kind-worker", ["endpoint", "list"]).splitlines()
    assert rows[2].split()[:3] == ["1", "Disabled", "Enabled"]


async def test_labels_and_namespace_labels_make_the_identity_and_changes_follow(cilium):
    await apply(cilium, policy("web-from-team", {"app": "web"}, [NetworkPolicyRule(
        [NetworkPolicyPeer(namespace_selector=LabelSelector({"team": "blue"}),
                           pod_selector=LabelSelector({"app": "client"}))])]))
    assert send(cilium, "pod/client", "pod/web-2").verdict == "dropped"
    before = identity(cilium, send(cilium, "pod/client", "pod/web-2").packet.src)
    await cilium.add_namespace("default")
    cilium.api.change("Namespace", "", "default", lambda ns: ns.metadata.labels.update(
        team="blue"))
    await cilium.settle()
    trace = send(cilium, "pod/client", "pod/web-2")
    after = identity(cilium, trace.packet.src)
    assert trace.verdict == "delivered" and after != before
    listed = cilium_view(cilium, "node/kind-worker", ["identity", "list"])
    assert f"{after:<8}k8s:app=client\n" in listed
    assert "k8s:io.cilium.k8s.namespace.labels.team=blue" in listed
    assert "k8s:io.kubernetes.pod.namespace=default" in listed


async def test_an_ip_block_selects_no_pod_in_cilium(cilium):
    block = [NetworkPolicyRule([NetworkPolicyPeer(ip_block=IPBlock("10.244.0.0/16"))])]
    await apply(cilium, policy("web-from-pods-cidr", {"app": "web"}, block))
    hop = bpf(send(cilium, "pod/client", "pod/web-1"), "cil_to_container")[0]
    assert hop.drop_reason == "Policy denied"
    assert "Kubernetes' reading: ingress allowed by default/web-from-pods-cidr " \
           "ingress[0].from[0]; Cilium denies it by identity" in hop.detail
    ipcache = cilium_view(cilium, "node/kind-worker2", ["bpf", "ipcache", "list"])
    assert "10.244.0.0/16       identity=16777217 " in ipcache


async def test_the_node_itself_may_reach_an_isolated_pod(cilium):
    await apply(cilium, policy("deny-all", {}))
    assert send(cilium, "node/kind-worker2", "pod/web-1").verdict == "delivered"
    assert send(cilium, "node/kind-worker", "pod/web-1").verdict == "dropped"
    listing = cilium_view(cilium, "node/kind-worker2", ["bpf", "policy", "get", "1"])
    assert listing.splitlines()[1].split() == ["Allow", "Ingress", "reserved:host", "ANY",
                                               "NONE", "disabled", "60", "1", "0", "0"]


async def test_across_the_tunnel_the_vni_is_the_source_identity(tunnel):
    await apply(tunnel, policy("web-from-api", {"app": "web"}, from_app("api")))
    trace = send(tunnel, "pod/client", "pod/web-1", "tcp", 80)
    client = identity(tunnel, trace.packet.src)
    encap = trace.events("encapsulate")[0]
    assert encap.packet_after.vni == client and f"VXLAN VNI {client}" in encap.detail
    decap = trace.events("decapsulate")[0]
    assert f"VNI {client} is kept as the tunnel key's id" in decap.detail
    overlay = bpf(trace, "cil_from_overlay")[0]
    assert overlay.src_identity == client
    hop = bpf(trace, "cil_to_container")[0]
    assert hop.drop_reason == "Policy denied" and hop.src_identity == client
    assert f"carries source identity {client} (from the VNI)" in hop.detail
    tunnel.api.change("Pod", "default", "client", lambda pod: pod.metadata.labels.update(
        app="api"))
    await tunnel.settle()
    trace = send(tunnel, "pod/client", "pod/web-1", "tcp", 80)
    assert trace.verdict == "delivered"
    assert trace.events("encapsulate")[0].packet_after.vni == identity(tunnel, trace.packet.src)


async def test_policy_get_holds_the_rules_as_cilium_imports_them(cilium):
    await apply(cilium, policy("web-from-api", {"app": "web"}, from_app("api", 80)))
    text = cilium_view(cilium, "node/kind-worker", ["policy", "get"])
    assert '"any:app": "web",\n        "k8s:io.kubernetes.pod.namespace": "default"' in text
    assert '"fromEndpoints": [' in text and '"port": "80",' in text
    assert text.endswith("Revision: 2\n")
    every = cilium_view(cilium, "node/kind-worker2", ["bpf", "policy", "get", "--all"])
    assert every.startswith("Endpoint ID: 1\nPath: /sys/fs/bpf/tc/globals/cilium_policy_v2_"
                            "00001\n\nPOLICY ")
