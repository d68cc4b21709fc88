"""The shared, incrementally updated service table gives every node exactly the chains a
from-scratch computation of all rules for that node gives, whatever the order of events."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Network

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.api import ApiServer
from playground.cluster.objects import ObjectMeta
from playground.cluster.service import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Service,
    ServicePort,
    ServiceSpec,
)
from playground.net.netfilter import Netfilter
from playground.net.netns import Namespace
from playground.proxy.iptables import KubeProxy
from playground.proxy.rules import BASE_JUMPS, node_rules
from playground.proxy.service_table import ServiceTable

CIDR = IPv4Network("10.244.0.0/16")
NODES = ("n1", "n2", "n3")
NAMES = ("alpha", "beta", "gamma", "delta")


def service(name: str, kind: str, local: bool, internal_local: bool, sticky: bool) -> Service:
    index = NAMES.index(name)
    port = ServicePort(80, 8080, node_port=30080 + index if kind != "ClusterIP" else None)
    spec = ServiceSpec([port], selector={"app": name}, type=kind,
                       cluster_ip=f"10.96.0.{10 + index}",
                       external_traffic_policy="Local" if local else "Cluster",
                       internal_traffic_policy="Local" if internal_local else "Cluster",
                       session_affinity="ClientIP" if sticky else "None")
    made = Service(ObjectMeta(name, "default"), spec)
    if kind == "LoadBalancer":
        made.status.load_balancer_ips = [f"198.51.100.{10 + index}"]
    return made


def endpoint_slice(name: str, placed: list[tuple[int, str]]) -> EndpointSlice:
    endpoints = [Endpoint(f"10.244.{NODES.index(node) + 1}.{host}", True, node,
                          f"default/{name}-{host}") for host, node in placed]
    return EndpointSlice(ObjectMeta(name, "default"), service=f"default/{name}",
                         endpoints=endpoints, ports=[EndpointPort(8080)])


events = st.lists(st.one_of(
    st.tuples(st.just("service"), st.sampled_from(NAMES),
              st.sampled_from(("ClusterIP", "NodePort", "LoadBalancer")),
              st.booleans(), st.booleans(), st.booleans()),
    st.tuples(st.just("slice"), st.sampled_from(NAMES),
              st.lists(st.tuples(st.integers(2, 9), st.sampled_from(NODES)), max_size=4,
                       unique_by=lambda e: e[0])),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.sampled_from(("Service",
                                                                         "EndpointSlice"))),
), min_size=1, max_size=12)


def apply(api: ApiServer, event: tuple) -> None:
    kind, name = event[0], event[1]
    if kind == "delete":
        if api.peek(event[2], "default", name) is not None:
            api.delete(event[2], "default", name)
        return
    obj = service(name, *event[2:]) if kind == "service" else endpoint_slice(name, event[2])
    if api.peek(obj.kind, obj.metadata.namespace, name) is None:
        api.create(obj)
    else:
        api.update(obj)


def from_scratch(api: ApiServer, node: str) -> str:
    """All of kube-proxy's rules for the node, computed in one go and loaded by restore."""
    slices: dict[str, list] = {}
    for slice_ in api.list("EndpointSlice"):
        slices.setdefault(slice_.service, []).append(slice_)
    rules = node_rules(api.list("Service"), slices, node, CIDR)
    nf = Netfilter()
    lines = []
    for table in ("nat", "filter"):
        chains = getattr(rules, table)
        lines.append(f"*{table}")
        lines += [f":{chain} - [0:0]" for chain in (*chains, "KUBE-PROXY-CANARY")]
        lines += [f"-A {chain} {rule}" for chain, body in chains.items() for rule in body]
        lines += [f"-A {chain} {rule}" for t, chain, rule in BASE_JUMPS if t == table]
        lines.append("COMMIT")
    nf.restore("\n".join(lines) + "\n")
    return nf.save(("nat", "filter"))


def started(api: ApiServer) -> tuple[ServiceTable, dict[str, Namespace], list[KubeProxy]]:
    """The shared table and a kube-proxy on every node, running."""
    table = ServiceTable(api, CIDR)
    table.start()
    namespaces = {node: Namespace(f"node/{node}") for node in NODES}
    proxies = [KubeProxy(api, node, namespaces[node], CIDR, table) for node in NODES]
    for proxy in proxies:
        proxy.start()
    return table, namespaces, proxies


async def run(sequence: list[tuple], burst: int = 1) -> None:
    """Apply the events `burst` at a time (queued together, as a burst the table folds),
    and compare every node with a full rebuild whenever the table has settled."""
    api = ApiServer()
    table, namespaces, proxies = started(api)
    for start in range(0, len(sequence), burst):
        for event in sequence[start:start + burst]:
            apply(api, event)
        await api.tracker.wait_idle()
        await asyncio.sleep(0)
        if burst > 1 or start + burst >= len(sequence):
            for node in NODES:
                shown = namespaces[node].netfilter.save(("nat", "filter"))
                assert shown == from_scratch(api, node), node
        if start // burst % 2:   # as a walk would: later changes then splice parsed rules
            for layer in table.shared.values():
                for chain in layer.chains.values():
                    assert chain.rules is not None
    for proxy in proxies:
        await proxy.stop()
    await table.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_incremental_updates_equal_a_full_rebuild_on_every_node(sequence):
    asyncio.run(run(sequence))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.integers(2, 12))
def test_bursts_of_events_folded_per_service_equal_a_full_rebuild(sequence, burst):
    asyncio.run(run(sequence, burst))


async def test_a_node_with_a_local_endpoint_has_its_own_chain_and_the_others_share_one():
    api = ApiServer()
    table, namespaces, proxies = started(api)
    api.create(service("alpha", "NodePort", True, False, False))
    api.create(endpoint_slice("alpha", [(2, "n1")]))
    await api.tracker.wait_idle()
    tables = {node: namespaces[node].netfilter.table("nat").chains for node in NODES}
    svl = next(name for name in tables["n1"] if name.startswith("KUBE-SVL-"))
    assert tables["n1"][svl].rules
    # kube-proxy writes no empty KUBE-SVL chain where the node has no endpoint of its own
    assert svl not in tables["n2"] and svl not in tables["n3"]
    ext = svl.replace("KUBE-SVL-", "KUBE-EXT-")
    assert tables["n1"][ext] is not tables["n2"][ext]
    assert tables["n2"][ext] is tables["n3"][ext]   # one object for the nodes without one
    assert tables["n1"]["KUBE-SERVICES"] is tables["n2"]["KUBE-SERVICES"]
    for proxy in proxies:
        await proxy.stop()
    await table.stop()


async def test_a_burst_of_events_for_one_service_syncs_it_once_and_settles_synced():
    api = ApiServer()
    table = ServiceTable(api, CIDR)
    table.start()
    synced: list[str] = []
    sync = table.sync
    table.sync = lambda key: (synced.append(key), sync(key))
    api.create(service("alpha", "ClusterIP", False, False, False))
    api.create(endpoint_slice("alpha", [(2, "n1")]))
    api.update(endpoint_slice("alpha", [(2, "n1"), (3, "n2")]))
    await api.tracker.wait_idle()
    assert synced == ["default/alpha"]
    chain = next(c for name, c in table.shared["nat"].chains.items()
                 if name.startswith("KUBE-SVC-"))
    assert "10.244.2.3:8080" in chain.save_text()
    await table.stop()
