"""kube-proxy's own golden tests, rebuilt as labs: the manifests under golden/kube_proxy/ are
the Services and EndpointSlices of TestOverallIPTablesRules and TestBadIPs
(pkg/proxy/iptables/proxier_test.go at aroradaman/kubernetes@4177b600d4b9, a 1.31-era copy
of kubernetes/kubernetes), the .expected files that test's full expected output; the lab's
node must show the same rules after kube-proxy's own canonicalisation (kube_golden.py).

Renamed where the lab's addressing forces it (the same in the manifests and, through
RENAMES, in the expected text): Service IPs 172.30.0.N are 10.96.0.N (the lab's Service
range), LoadBalancer IPs 1.2.3.4 and 5.6.7.8 are 198.51.100.4 and .8 (the LB pool), node
ports 3001-3003 are 30001-30003 (the node-port range), the test's cluster CIDR 10.0.0.0/8 is
the lab's 10.244.0.0/16. The test's fake iptables cannot do --random-fully; the lab's
iptables 1.8.9 can, so kube-proxy adds it to the MASQUERADE rule as on a real node."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from kube_golden import GOLDEN, differing, expected_lines, lab_lines

from playground.cluster.cluster import Cluster
from playground.cluster.manifests import apply_files

RENAMES = [(r"\b172\.30\.0\.0*(\d+)\b", r"10.96.0.\1"), (r"\b1\.2\.3\.4\b", "198.51.100.4"),
           (r"\b5\.6\.7\.8\b", "198.51.100.8"), (r"--dport 300([1-3])\b", r"--dport 3000\1"),
           (r"\b10\.0\.0\.0/8\b", "10.244.0.0/16"),
           (r"(?m)-j MASQUERADE$", "-j MASQUERADE --random-fully")]


@dataclass(frozen=True)
class Case:
    name: str       # golden/kube_proxy/NAME.yaml and NAME.expected
    upstream: str   # the Go test it comes from
    missing: str    # what the lab still lacks for it ("" when nothing)


CASES = [
    Case("overall", "TestOverallIPTablesRules", ""),
    Case("badips", "TestBadIPs",
         "the API server's sloppy IP parsing: the test writes IPs and CIDRs with leading "
         "zeros, which the API server accepts (IsValidIP parses with ParseIPSloppy; only "
         "the StrictIPCIDRValidation gate refuses new ones) and the lab's API refuses, as "
         "every reader of a stored address in the lab parses it strictly"),
]


async def lab_for(case: Case) -> str:
    cluster = Cluster(seed=1)
    await cluster.start()
    await cluster.add_node("test-node")
    try:
        await apply_files(cluster, [str(GOLDEN / f"{case.name}.yaml")])
        return cluster.node_namespace("test-node").netfilter.save(["filter", "nat"])
    finally:
        await cluster.stop()


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.upstream, marks=[pytest.mark.xfail(
        strict=True, reason=f"needs {case.missing}")] if case.missing else [])
    for case in CASES])
async def test_the_lab_writes_kube_proxys_expected_rules(case: Case) -> None:
    saved = await lab_for(case)
    assert differing(expected_lines(f"{case.name}.expected", RENAMES), lab_lines(saved)) == []


def test_the_canonical_form_keeps_every_expected_rule() -> None:
    """The comparison cannot pass by dropping rules: every -A line of the golden file is in
    its canonical form, and two different files stay different."""
    for case in CASES:
        text = (GOLDEN / f"{case.name}.expected").read_text()
        rules = [line for line in expected_lines(f"{case.name}.expected", RENAMES)
                 if line.startswith("-A ")]
        assert len(rules) == text.count("\n-A ")
    assert differing(expected_lines("overall.expected", RENAMES),
                     expected_lines("badips.expected", RENAMES))
