"""Names that do not resolve, traced: a NetworkPolicy that stops the pod's questions on the
CNIs that enforce it, and an upstream that takes CoreDNS's forward and never answers."""

from dataclasses import replace

import dns.rcode
import pytest

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import TraceRequest, legs, unresolved
from playground.cluster.netpol.model import NetworkPolicy, NetworkPolicySpec
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import ObjectMeta


@pytest.mark.parametrize(("cni", "enforcer"), [("ptp", "kube-network-policies"),
                                               ("cilium", "cil_from_container")])
async def test_an_egress_deny_drops_the_dns_leg_and_the_trace_says_so(cni, enforcer):
    lab = await build_default_lab(cni=cni)
    try:
        lab.api.create(NetworkPolicy(ObjectMeta("deny-egress", "default"), NetworkPolicySpec(
            LabelSelector({"app": "client"}), policy_types=["Egress"])))
        await lab.settle()
        found = legs(lab, TraceRequest("pod/client", "web"))
        assert [leg.role for leg in found] == ["dns", "dns"]   # both attempts, no answer
        for leg in found:
            assert leg.trace.packet.dport == 53 and leg.trace.verdict == "dropped"
            assert enforcer in leg.trace.reason
        assert found[1].why == "attempt 2 of 2"
        told = unresolved("web", found)
        assert told.startswith("could not resolve web: no nameserver answered (the queries "
                               "were dropped: dropped by ")
        if cni == "ptp":
            assert "default/deny-egress" in told
    finally:
        await lab.stop()


async def test_an_upstream_that_never_answers_is_servfail_for_the_pod(lab):
    internet = lab.network.namespace("internet")
    # a program on 53 that is no DNS server: it takes the question and never answers
    internet.sockets[:] = [replace(s, owner="sink") if s.owner == "resolver" else s
                           for s in internet.sockets]
    found = legs(lab, TraceRequest("pod/client", "example.com."))
    forwarded = [leg for leg in found if leg.role.startswith("forwarded-dns")]
    assert forwarded and all(leg.role == "forwarded-dns" for leg in forwarded)
    assert all(leg.trace.verdict == "delivered" and leg.trace.delivered_to.owner == "sink"
               for leg in forwarded)
    answers = [leg.message for leg in found if leg.role == "dns-reply"]
    assert answers and all(a.rcode() == dns.rcode.SERVFAIL for a in answers)
    assert "packet" not in [leg.role for leg in found]
    assert unresolved("example.com.", found).startswith("could not resolve example.com.: "
                                                        "SERVFAIL")
