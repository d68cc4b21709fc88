"""A loaded lab's nodes sleep until something needs them, then look as if they never slept."""

from __future__ import annotations

from playground.cluster.lab import web
from playground.net.iplink import bridge_fdb_show, ip_link_show, ip_neigh_show
from playground.net.ipvsadm import ipvsadm
from playground.net.netfilter.commands import validate_table
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab


def state_of(ns) -> str:
    """Everything a user can look at in one namespace, as the tools print it."""
    parts = [ns.ip_route(), ns.netfilter.save(counters=True, when="-"),
             ip_neigh_show(ns), ns.conntrack.listing(), repr(sorted(ns.sysctl.items()))]
    for name, device in ns.devices.items():   # in creation order, as ifindexes go
        peer = getattr(device, "peer", None)
        parts.append(f"{name} {device.kind} {device.mac} {device.mtu} {device.up} "
                     f"{device.master and device.master.name} {device.hairpin} "
                     f"{peer and peer.where}")
        if device.kind == "vxlan":
            parts += [ip_link_show(ns, name, details=True), bridge_fdb_show(ns, name)]
        if device.kind == "bridge":
            parts.append(repr(sorted(device.fdb.items())))
    # no tool here prints addresses in their order (kube-ipvs0's come back by Service name)
    parts += sorted(f"{a.dev} {a.interface}" for a in ns.addresses)
    if ns.ipvs is not None:
        parts.append(ipvsadm(ns, ["-Ln"], 0.0))
    return "\n".join(parts)


def world(cluster) -> dict[str, str]:
    names = [f"node/{n.name}" for n in cluster.nodes()]
    names += [f"pod/{p.metadata.namespace}/{p.name}" for p in cluster.pods()]
    return {name: state_of(cluster.network.namespace(name)) for name in sorted(names)}


async def saved_and_loaded(cluster, tmp_path) -> Lab:
    path = tmp_path / "lab.k8slab"
    await save_lab(Lab(cluster), path)
    return await load_lab(path)


async def test_every_woken_node_and_pod_is_as_saved(dataplane_lab, tmp_path):
    cluster = dataplane_lab
    loaded = await saved_and_loaded(cluster, tmp_path)
    try:
        assert sorted(loaded.cluster.sleeping) == sorted(n.name for n in cluster.nodes())
        assert world(loaded.cluster) == world(cluster)
        assert loaded.cluster.sleeping == {}
        for node in loaded.cluster.nodes():   # the agents' own rules skip the loop check:
            tables = loaded.cluster.node_namespace(node.name).netfilter.tables
            for table in tables.values():     # the whole table passes it all the same
                validate_table(table)
    finally:
        await loaded.close()


async def test_a_trace_wakes_only_the_nodes_it_crosses(lab, tmp_path):
    loaded = await saved_and_loaded(lab, tmp_path)
    try:
        web_1 = loaded.cluster.find_pod("web-1")
        result = await loaded.run(f"trace pod/client {web_1.status.pod_ip}")
        assert result.trace.verdict == "delivered"
        client = loaded.cluster.find_pod("client")
        awake = {client.spec.node_name, web_1.spec.node_name}
        assert set(loaded.cluster.sleeping) == {n.name for n in lab.nodes()} - awake
    finally:
        await loaded.close()


async def test_a_pod_placed_on_a_sleeping_node_runs_and_answers(lab, tmp_path):
    loaded = await saved_and_loaded(lab, tmp_path)
    cluster = loaded.cluster
    try:
        pod = await cluster.add_pod("late", web("late"), labels={"app": "web"},
                                    node_name="kind-worker2")
        assert pod.status.phase == "Running"
        assert "kind-worker2" not in cluster.sleeping
        result = await loaded.run(f"trace pod/client {pod.status.pod_ip}")
        assert result.trace.verdict == "delivered"
    finally:
        await loaded.close()


async def test_a_sleeping_node_can_be_removed(lab, tmp_path):
    loaded = await saved_and_loaded(lab, tmp_path)
    try:
        await loaded.cluster.remove_node("kind-worker2")
        assert "kind-worker2" not in loaded.cluster.sleeping
        assert [p for p in loaded.cluster.pods() if p.spec.node_name == "kind-worker2"] == []
        assert "node/kind-worker2" not in loaded.cluster.network.names()
    finally:
        await loaded.close()
