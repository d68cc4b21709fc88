"""kube-network-policies on ptp (kindnet): the table on each node holds that node's pods a
policy selects; their connections' first packets go to queue 100, whose program decides
by the policies of both ends and says which policy and rule, or why none."""

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.netpol.model import (
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    NetworkPolicySpec,
)
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import ObjectMeta
from playground.policy.kube_network_policies import POD_SET, TABLE

WEB_FROM_CLIENT = NetworkPolicySpec(
    LabelSelector({"app": "web"}), policy_types=["Ingress"],
    ingress=[NetworkPolicyRule(peers=[NetworkPolicyPeer(pod_selector=LabelSelector(
        {"app": "client"}))], ports=[NetworkPolicyPort(port=80)])])


def policy(name, spec):
    return NetworkPolicy(ObjectMeta(name, "default"), spec)


def deny_ingress(selector):
    return policy("deny-web", NetworkPolicySpec(LabelSelector(selector),
                                                policy_types=["Ingress"]))


def pod_set(lab, node):
    return lab.network.namespace(f"node/{node}").nft.table("inet", TABLE).sets[POD_SET]


def queue_hops(trace):
    return [h for h in trace.hops if h.event == "nfqueue"]


async def ptp_lab():
    return await build_default_lab(cni="ptp")


async def test_the_table_holds_the_local_pods_a_policy_selects():
    lab = await ptp_lab()
    try:
        assert lab.policy.name == "kube-network-policies" and lab.policy.status() == ""
        listing = lab.network.namespace("node/kind-worker2").nft.list_ruleset()
        assert "type filter hook postrouting priority srcnat - 5; policy accept;" in listing
        assert "meta skuid 0 accept\n\t\tct state established,related accept\n" in listing
        assert "ip saddr @podips-v4 queue bypass to 100" in listing
        assert not pod_set(lab, "kind-worker2").elements
        lab.api.create(deny_ingress({"app": "web"}))
        await lab.settle()
        # web-1 lives on kind-worker2, web-2 on kind-worker
        assert "elements = { 10.244.2.2 }" in lab.network.namespace(
            "node/kind-worker2").nft.list_ruleset()
        assert "elements = { 10.244.1.3 }" in lab.network.namespace(
            "node/kind-worker").nft.list_ruleset()
        lab.api.delete("NetworkPolicy", "default", "deny-web")
        await lab.settle()
        assert not pod_set(lab, "kind-worker2").elements
    finally:
        await lab.stop()


async def test_a_deny_names_the_selecting_policies_and_the_closest_miss():
    lab = await ptp_lab()
    try:
        lab.api.create(policy("web-from-client", WEB_FROM_CLIENT))
        await lab.settle()
        trace = send(lab, "pod/app", "pod/web-1", "tcp", 80)
        assert trace.verdict == "dropped"
        hop, = queue_hops(trace)
        assert hop.where == "node/kind-worker2" and hop.packet_before == hop.packet_after
        assert hop.detail.startswith("queue 100: kube-network-policies → drop: default/app "
                                     "→ default/web-1 TCP 80: ingress denied: default/web-1 "
                                     "is isolated by default/web-from-client")
        assert "app=client" in hop.detail and "app=app" in hop.detail
        assert trace.reason.startswith("dropped by kube-network-policies (queue 100) in "
                                       "node/kind-worker2")
    finally:
        await lab.stop()


async def test_an_allow_names_the_rule_and_the_service_is_judged_after_dnat():
    lab = await ptp_lab()
    try:
        lab.api.create(policy("web-from-client", WEB_FROM_CLIENT))
        await lab.settle()
        trace = send(lab, "pod/client", "pod/web-1", "tcp", 80)
        assert trace.verdict == "delivered"
        hop, = queue_hops(trace)
        assert "→ accept:" in hop.detail
        assert "ingress allowed by default/web-from-client ingress[0].from[0] ports[0]" \
            in hop.detail
        # the Service's port 80 reaches the pod's port 80 (named http): judged on the pod
        service = send(lab, "pod/client", "svc/web", "tcp", 80)
        assert service.verdict == "delivered"
        assert all("10.96." not in h.detail for h in queue_hops(service))
    finally:
        await lab.stop()


async def test_node_traffic_passes_where_it_is_sent_and_is_judged_where_it_arrives():
    """`meta skuid 0 accept`: what the node's own (root) processes send is never queued,
    so the kubelet reaches its own pods; a forwarded packet from another node's address is
    no pod, and an ingress deny-all on the destination drops it."""
    lab = await ptp_lab()
    try:
        lab.api.create(deny_ingress({"app": "web"}))
        await lab.settle()
        local = send(lab, "node/kind-worker2", "pod/web-1", "tcp", 80)
        assert local.verdict == "delivered" and not queue_hops(local)
        remote = send(lab, "node/kind-worker", "pod/web-1", "tcp", 80)
        assert remote.verdict == "dropped"
        assert "→ drop: 172.18.0.2 → default/web-1 TCP 80: ingress denied" in \
            queue_hops(remote)[0].detail
    finally:
        await lab.stop()


async def test_a_pod_reaches_its_own_node_by_input_never_the_queue():
    """Own-node traffic needs no rule in the evaluator: to the node's address it is
    delivered locally (INPUT, never POSTROUTING); another node's address is no pod, and
    an egress deny-all drops it at the queue."""
    lab = await ptp_lab()
    try:
        deny = NetworkPolicySpec(LabelSelector({"app": "client"}), policy_types=["Egress"])
        lab.api.create(policy("deny-egress", deny))
        await lab.settle()
        own = send(lab, "pod/client", "node/kind-worker", "tcp", 10250)
        assert own.verdict == "delivered" and not queue_hops(own)
        other = send(lab, "pod/client", "node/kind-worker2", "tcp", 10250)
        assert other.verdict == "dropped"
        assert "egress denied: default/client is isolated by default/deny-egress" in \
            queue_hops(other)[0].detail
    finally:
        await lab.stop()
