"""Random small clusters and actions: save, load, and the loaded lab has the same objects
and gives the same traces, conntrack tables and rule counters."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.restore import saved_objects
from playground.saves import load_lab_bytes, pack_lab
from playground.session.lab import Lab
from playground.shell import ShellError

NAMES = ["a", "b", "c"]
CHANGES = st.one_of(
    st.builds("kubectl run p{} --image=nginx --port=80 --labels=app=x{}".format,
              st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.builds("kubectl create deployment d{} --image=nginx --replicas={} --port=80".format,
              st.sampled_from(NAMES), st.integers(1, 2)),
    st.builds("kubectl expose deployment d{} --port=80 --type={}".format,
              st.sampled_from(NAMES), st.sampled_from(["ClusterIP", "NodePort",
                                                       "LoadBalancer"])),
    st.builds("kubectl delete pod p{}".format, st.sampled_from(NAMES)),
)
PACKETS = st.one_of(
    st.builds("trace pod/p{} pod/p{}".format, st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.builds("trace pod/p{} svc/d{}".format, st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.builds("trace internet lb/d{}".format, st.sampled_from(NAMES)),
    st.builds("trace pod/p{} internet --proto {}".format, st.sampled_from(NAMES),
              st.sampled_from(["tcp", "udp", "icmp"])),
    st.just("reply"),
    st.builds("traffic pod/p{} svc/d{} --count 5".format, st.sampled_from(NAMES),
              st.sampled_from(NAMES)),
)
FOLLOW_UP = [f"trace pod/p{a} svc/d{b}" for a in NAMES for b in NAMES] + [
    "reply", "trace internet lb/da", "trace pod/pa internet"]


async def build(cni: str, seed: int, workers: int, changes: list[str],
                packets: list[str]) -> Lab:
    cluster = Cluster(cni=cni, seed=seed)
    await cluster.start()
    await cluster.add_node("control-plane", control_plane=True)
    for index in range(workers):
        await cluster.add_node(f"worker-{index}")
    lab = Lab(cluster)
    for line in changes + packets:
        await run(lab, line)
    return lab


async def run(lab: Lab, line: str, selected: str | None = None) -> str:
    try:
        return (await lab.run(line, selected)).output
    except (ShellError, ClusterError) as error:
        return f"error: {error}"


async def views(lab: Lab) -> list[str]:
    seen = [await run(lab, line) for line in FOLLOW_UP]
    for node in lab.cluster.nodes():
        for view in ("conntrack -L", "iptables-save -c", "ip route"):
            seen.append(await run(lab, view, f"node/{node.name}"))
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cni=st.sampled_from(["bridge", "ptp"]), seed=st.integers(0, 2**32),
       workers=st.integers(1, 2), changes=st.lists(CHANGES, max_size=8),
       packets=st.lists(PACKETS, max_size=8))
def test_save_then_load_gives_the_same_objects_and_traces(cni, seed, workers, changes,
                                                          packets):
    asyncio.run(round_trip(cni, seed, workers, changes, packets))


async def round_trip(cni: str, seed: int, workers: int, changes: list[str],
                     packets: list[str]) -> None:
    """Objects first, then packets: the journal replays against the objects it ran on."""
    original = await build(cni, seed, workers, changes, packets)
    loaded = await load_lab_bytes(pack_lab(original))
    try:
        assert saved_objects(loaded.cluster) == saved_objects(original.cluster)
        assert pack_lab(loaded) == pack_lab(original)
        assert await views(loaded) == await views(original)
    finally:
        await loaded.close()
        await original.close()
