"""kube-proxy's own nftables golden test, TestOverallNFTablesRules (kubernetes/kubernetes
pkg/proxy/nftables/proxier_test.go at 81810de635aa13aa0a32992f6def3aa9d6025ebc), its
Services rebuilt as a lab and the table test-node's kube-proxy writes compared line by line
with the test's expected dump, after the renaming nft_golden_lab describes and the sorting
of the test's own assertNFTablesTransactionEqual."""

import pytest
from nft_golden_lab import (
    BASE_RENAMING,
    NODE,
    check_hashes,
    expected_sections,
    overall_lab,
    rename,
    renaming,
    sort_transaction,
)

from playground.proxy.nft_table import NftServiceTable


async def table_of(cluster, node: str) -> list[str]:
    table = NftServiceTable(cluster.api, cluster.cluster_cidr)
    table.start()
    await cluster.settle()
    node_ip = cluster.api.peek("Node", "", node).status.internal_ip
    lines = table.node_lines(node, node_ip, [node_ip])
    await table.stop()
    return lines


async def compare(sections: list[str]) -> None:
    expected = expected_sections()
    cluster = await overall_lab(sections)
    try:
        wanted = rename(expected["base"], BASE_RENAMING)
        for name in sections:
            check_hashes(expected[name])
            wanted += rename(rename(expected[name], renaming(cluster, name)), BASE_RENAMING)
        got = await table_of(cluster, NODE)
    finally:
        await cluster.stop()
    assert sort_transaction(got) == sort_transaction(wanted)


@pytest.mark.parametrize("sections", [
    pytest.param(["svc1"], id="clusterip"),
    pytest.param(["svc3"], id="nodeport"),
    pytest.param(["svc5"], id="lb-source-ranges-affinity"),
    pytest.param(["svc6"], id="no-endpoints"),
    pytest.param(["svc2"], id="lb-local-externalip-no-local-endpoint"),
    pytest.param(["svc4"], id="externalip-no-node-port"),
    pytest.param(["svc1", "svc3", "svc5", "svc6"], id="four-together"),
    pytest.param(["svc1", "svc2", "svc3", "svc5", "svc6"], id="overall-but-svc4"),
    pytest.param(["svc1", "svc2", "svc3", "svc4", "svc5", "svc6"], id="overall"),
])
async def test_table_matches_kube_proxys_own_golden_dump(sections):
    await compare(sections)


def test_the_chain_names_hash_as_kube_proxys():
    for section in expected_sections().values():
        check_hashes(section)
