"""The nftables mode's shared table and the transactions a node's agent sends: after any
change, the table a node holds (its first transaction and every partial one since, replayed)
is the table a fresh kube-proxy would write, and nodes share their views where they can."""

from golden_lab import small_cluster
from nft_replay import RecordingProxy, Replay

from playground.proxy.nft_table import NftServiceTable


async def run_proxies(cluster):
    table = NftServiceTable(cluster.api, cluster.cluster_cidr)
    table.start()
    await cluster.settle()
    proxies = {}
    for node in ("n1", "n2"):
        proxy = proxies[node] = RecordingProxy(cluster.api, node, None, table)
        proxy.replay, proxy.transactions = Replay(), []
        proxy.start()
    return table, proxies


def assert_converged(table, proxies):
    """A node's table is a fresh full sync's, plus the chains it flushed and has not deleted
    yet (empty, and named by nothing)."""
    for node, proxy in proxies.items():
        fresh = Replay()
        fresh.run("\n".join(table.node_lines(node, proxy.node_ip, [proxy.node_ip])))
        chains, sets, elements = proxy.replay.state()
        assert all(chains[name] == [] for name in proxy.stale), node
        live = {name: rules for name, rules in chains.items() if name not in proxy.stale}
        assert (live, sets, elements) == fresh.state(), node


async def test_partial_transactions_leave_the_table_a_full_sync_writes():
    cluster = await small_cluster()
    table, proxies = await run_proxies(cluster)
    assert_converged(table, proxies)
    await cluster.update_service("web", session_affinity="ClientIP")
    assert_converged(table, proxies)
    await cluster.delete_pod("web-c")
    assert_converged(table, proxies)
    await cluster.delete_pod("web-a")   # edge (Local) has no endpoint on n1 any more
    assert_converged(table, proxies)
    await cluster.delete_service("web")
    assert_converged(table, proxies)
    assert not any("default/web/" in line for line in
                   table.node_lines("n1", proxies["n1"].node_ip, []))
    await table.stop()
    await cluster.stop()


async def test_flushed_chains_are_deleted_at_the_first_sync_a_second_later():
    cluster = await small_cluster()
    table, proxies = await run_proxies(cluster)
    n1 = proxies["n1"]
    await cluster.delete_service("web")
    flushed = set(n1.stale)
    assert flushed and all(n1.replay.chains[name] == [] for name in flushed)
    await cluster.update_service("edge", session_affinity="ClientIP")
    assert set(n1.stale) == flushed   # not a second yet: still there
    await cluster.advance(2)
    await cluster.update_service("edge", session_affinity="None")
    assert not n1.stale and not flushed & set(n1.replay.chains)
    assert n1.transactions[-2] == [f"delete chain ip kube-proxy {name}"
                                   for name in sorted(flushed)]
    assert_converged(table, proxies)
    await table.stop()
    await cluster.stop()


async def test_a_change_sends_only_that_services_lines():
    cluster = await small_cluster()
    table, proxies = await run_proxies(cluster)
    before = len(proxies["n2"].transactions)
    await cluster.update_service("web", session_affinity="ClientIP")
    sent = proxies["n2"].transactions[before:]
    assert len(sent) == 1
    assert all("/edge/" not in line and "/dns/" not in line for line in sent[0])
    assert any(line.startswith("add set ip kube-proxy affinity-") for line in sent[0])
    await table.stop()
    await cluster.stop()


async def test_nodes_share_a_services_view_unless_a_local_policy_makes_it_theirs():
    cluster = await small_cluster()
    table, proxies = await run_proxies(cluster)
    n1, n2 = proxies["n1"], proxies["n2"]
    # web has Cluster policies: one Block for every node
    assert table.view("default/web", "n1", n1.node_ip) is table.view("default/web", "n2",
                                                                      n2.node_ip)
    # edge is Local: each node with an endpoint writes its own local- chain
    edge_n1 = table.view("default/edge", "n1", n1.node_ip)
    edge_n2 = table.view("default/edge", "n2", n2.node_ip)
    assert edge_n1 is not edge_n2
    local_n1 = [c for c in edge_n1.chains if c.startswith("local-")]
    assert local_n1 and edge_n1.chains[local_n1[0]][0].startswith("numgen random mod 1 ")
    assert edge_n2.chains[local_n1[0]][0].startswith("numgen random mod 2 ")
    await table.stop()
    await cluster.stop()
