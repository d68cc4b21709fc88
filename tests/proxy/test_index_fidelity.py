"""With 40 Services, KUBE-SERVICES is long enough to be indexed; a trace through it reports
the same hops, rule positions, rules walked and counters as a rule-by-rule walk."""

from __future__ import annotations

import playground.net.netfilter.core as core
from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort

WEB = [Container("web", ports=[ContainerPort(80)])]


async def traces(index_from: int) -> tuple[list, str]:
    core.INDEX_MIN_RULES = index_from
    cluster = Cluster(seed=3)
    await cluster.start()
    for name in ("a", "b"):
        await cluster.add_node(name)
    await cluster.add_pod("client", [Container("c")], node_name="a")
    for index in range(40):
        await cluster.add_pod(f"web-{index}", WEB, labels={"app": f"s{index}"})
        await cluster.add_service(f"s{index}", [ServicePort(80)], selector={"app": f"s{index}"})
    seen = []
    for index in (0, 17, 39):
        ip = cluster.find_service(f"s{index}").spec.cluster_ip
        seen.append(cluster.network.send("pod/default/client", ip, "tcp", 80).to_dict())
    saved = cluster.node_namespace("a").netfilter.save(counters=True)
    await cluster.stop()
    return seen, saved


async def test_an_indexed_walk_reports_what_a_rule_by_rule_walk_does():
    default = core.INDEX_MIN_RULES
    try:
        indexed = await traces(default)
        plain = await traces(10**9)
    finally:
        core.INDEX_MIN_RULES = default
    assert indexed == plain
    walked = [hop["rules_walked"] for trace in indexed[0] for hop in trace["hops"]
              if hop["chain"] == "KUBE-SERVICES" or "KUBE-SERVICES" in str(hop["matched_rules"])]
    assert walked and max(w or 0 for w in walked) > 40, "the Services' rules were walked"
