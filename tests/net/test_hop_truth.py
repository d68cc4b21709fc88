"""Every hop tells the truth (issue 15): over random labs and flows, a hop that rewrites the
packet shows the change, every other hop shows none, and one packet's consecutive hops
agree (what one hop let go is what the next one got)."""

from __future__ import annotations

import asyncio

import planes
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

DATAPLANES = [(plane.cni, plane.proxy_mode) for plane in planes.DATAPLANES]
PODS = ("pod/client", "pod/web-1", "pod/web-2", "pod/app",
        "pod/kube-system/coredns-5d78c9869d-4x7kq")
NODES = ("kind-control-plane", "kind-worker", "kind-worker2")
NODE_PORT = 30080

# events that exist to change the packet, and those that never may
REWRITING = {"nat", "encapsulate", "decapsulate", "ipvs", "fragment", "forward"}
NAT_ACTIONS = ("→ DNAT", "→ SNAT", "→ MASQUERADE")
# what an eBPF program's verdict says when it translated (socket LB, NodePort NAT, reverse
# NAT) rather than only passed or redirected the packet
BPF_TRANSLATIONS = ("picked", "keeps its backend", "gives the client", "reply of a NodePort",
                    "reports the datagram as from")


def must_rewrite(hop) -> bool | None:
    """True: the hop's event is a rewrite; False: it never changes the packet."""
    if hop.event == "ipvs":  # scheduling or un-NAT; refusing a service with no real server not
        return "no real server to send to" not in hop.detail
    if hop.event in REWRITING:
        return True
    if hop.event == "netfilter":
        return hop.table == "nat" and hop.detail.endswith(NAT_ACTIONS)
    if hop.event == "bpf":
        return any(words in hop.detail for words in BPF_TRANSLATIONS)
    return False


def problems(trace) -> list[str]:
    found = []
    last = {}
    for hop in trace.hops:
        expected = must_rewrite(hop)
        if hop.rewrote != expected:
            said = "rewrites but shows no change" if expected else "changes the packet"
            found.append(f"hop {hop.index} ({hop.where} {hop.event}: {hop.detail[:70]}) {said}")
        previous = last.get(hop.role)
        if previous is not None and previous.packet_after != hop.packet_before and \
                not starts_anew(previous, hop):
            found.append(f"hops {previous.index}→{hop.index} ({hop.role}): "
                         f"{previous.packet_after.summary()} left, "
                         f"{hop.packet_before.summary()} arrived")
        last[hop.role] = hop
    return found


def starts_anew(previous, hop) -> bool:
    """A second packet of the same role (another ICMP error) starts its own walk."""
    return hop.event == "icmp" and hop.role == "error"


@pytest.fixture(scope="module")
def labs():
    """One lab per dataplane, built once; the flows run on it one after another."""
    loop = asyncio.new_event_loop()
    built = {}

    def get(cni: str, mode: str):
        if (cni, mode) not in built:
            built[cni, mode] = loop.run_until_complete(_build(cni, mode))
        return built[cni, mode]

    yield get
    for cluster in built.values():
        loop.run_until_complete(cluster.stop())
    loop.close()


async def _build(cni: str, mode: str):
    cluster = await build_default_lab(cni=cni, proxy_mode=mode)
    await cluster.add_service("web-np", [ServicePort(80, "http", name="http",
                                                     node_port=NODE_PORT)],
                              selector={"app": "web"}, type="NodePort")
    await cluster.add_service("shop", [ServicePort(80, "http", name="http")],
                              selector={"app": "web"}, type="LoadBalancer")
    await cluster.add_deployment("solo", [Container("solo", ports=[ContainerPort(80, "http")])])
    await cluster.add_service("solo", [ServicePort(80, "http", name="http")],
                              selector={"app": "solo"}, type="LoadBalancer",
                              external_traffic_policy="Local")
    await cluster.settle()
    return cluster


def flows():
    inside = st.sampled_from(PODS + tuple(f"node/{n}" for n in NODES))
    to_pod = st.tuples(st.sampled_from(PODS), st.sampled_from(PODS + NODES_AS_TARGETS),
                       st.sampled_from(("tcp", "udp", "icmp")), st.none())
    to_service = st.tuples(inside, st.sampled_from(("svc/web", "svc/kube-system/kube-dns",
                                                    "svc/kubernetes")),
                           st.sampled_from(("tcp", "udp", "icmp")), st.none())
    out = st.tuples(st.sampled_from(PODS), st.just("internet"), st.sampled_from(("tcp", "icmp")),
                    st.none())
    node_port = st.tuples(st.just("internet"), st.sampled_from(NODES).map(lambda n: "public/" + n),
                          st.just("tcp"), st.just(NODE_PORT))
    balancer = st.tuples(st.just("internet"), st.sampled_from(("lb/shop", "lb/solo")),
                         st.just("tcp"), st.none())
    hairpin = st.one_of(
        st.tuples(inside, st.sampled_from(("lb/shop", "lb/solo")), st.just("tcp"), st.none()),
        st.tuples(inside, st.sampled_from(NODES_AS_TARGETS), st.just("tcp"), st.just(NODE_PORT)))
    return st.one_of(to_pod, to_service, out, node_port, balancer, hairpin)


NODES_AS_TARGETS = tuple(f"node/{n}" for n in NODES)


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(dataplane=st.sampled_from(DATAPLANES), flow=flows(),
       size=st.sampled_from((None, None, 1400, 1480, 3000)), df=st.booleans(),
       replies=st.integers(0, 2))
def test_every_hop_tells_the_truth(labs, dataplane, flow, size, df, replies):
    cluster = labs(*dataplane)
    src, dst, proto, port = flow
    if dst.startswith("public/"):
        dst = cluster.api.get("Node", "", dst[7:]).status.external_ip
    try:
        trace = send(cluster, src, dst, proto, port, size=size, df=df)
    except ClusterError:
        return  # e.g. a UDP port the target does not serve: nothing was sent
    event(f"{dataplane[0]}/{dataplane[1]}")
    event(f"{dst.split('/')[0]} {trace.verdict}")
    traces = [trace]
    for _ in range(replies):
        if traces[-1].verdict != "delivered":
            break
        traces.append(cluster.network.reply(traces[-1]))
    for number, each in enumerate(traces):
        found = problems(each)
        assert not found, f"{dataplane} {flow} size={size} df={df}, packet {number}:\n" + \
            "\n".join(found) + "\n" + each.text()
