"""kube-proxy's tables for a small fixed cluster, compared line by line with files written
from ../shared/reference/kube-proxy.md (chain names, comments, marks, probabilities)."""

from pathlib import Path

import pytest
from golden_lab import small_cluster

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("node", ["n1", "n2"])
async def test_iptables_save_matches_the_golden_file(node):
    cluster = await small_cluster()
    saved = cluster.node_namespace(node).netfilter.save(["filter", "nat"], when="GOLDEN")
    await cluster.stop()
    expected = (GOLDEN / f"{node}.iptables").read_text()
    assert saved.splitlines() == expected.splitlines()
