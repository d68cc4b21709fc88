"""kube-proxy in nftables mode on the default lab, in the kernel: its ruleset reads back
unchanged and every probe agrees with the model, numgen's endpoint picks and fully-random
masquerade ports included (needs root, nft, iptables and conntrack)."""

import pytest

from playground.cluster.lab import build_default_lab
from playground.verify.run import verify


@pytest.mark.parametrize("cni", ["bridge", "ptp", "vxlan"])
async def test_the_default_lab_in_nftables_mode_matches_the_kernel(kernel, cni):
    lab = await build_default_lab(cni=cni, proxy_mode="nftables")
    try:
        rulesets: list[str] = []
        results = verify(lab, rulesets=rulesets)
    finally:
        await lab.stop()
    assert rulesets == []
    assert [(r.probe.label, r.problems) for r in results if not r.ok] == []
    to_dns = [r for r in results if r.probe.question and r.probe.kind.startswith("pod")]
    assert any(len({o.server for o in r.outcomes}) == 2 for r in to_dns), \
        "numgen random mod 2 gives either CoreDNS pod"
    assert any(o.random_ports for r in results for o in r.outcomes), \
        "masquerade fully-random draws a port"
