"""Real DNS through real namespaces: every pod asks kube-dns with dnspython, the coredns pods'
namespaces answer the model's records; answers, their source and conntrack must match."""

from playground.cluster.lab import build_default_lab
from playground.verify.run import verify


async def test_dns_queries_match_the_kernel(kernel):
    lab = await build_default_lab()
    try:
        results = [r for r in verify(lab) if r.probe.question]
    finally:
        await lab.stop()
    # each pod: kubernetes, kube-dns, web and a missing name over UDP, kubernetes over TCP
    assert len(results) == 6 * 5
    assert [r.probe.proto for r in results].count("tcp") == 6
    problems = [(r.probe.label, r.problems) for r in results if not r.ok]
    assert problems == []
    answers = {r.probe.question: r.observed.answer for r in results}
    web = lab.api.peek("Service", "default", "web").spec.cluster_ip
    assert answers["web.default.svc.cluster.local."] == f"NOERROR {web}"
    assert answers["nope.default.svc.cluster.local."] == "NXDOMAIN"
    assert all(str(r.observed.answered_from[0]) == "10.96.0.10" for r in results)
    assert all(r.observed.server.startswith("pod/kube-system/coredns-") for r in results)
