"""The "none" engine of the bridge and vxlan CNIs: policies are kept, nothing enforces them,
and a trace they would have changed says so."""

import pytest

from playground.cluster.legs import send
from playground.cluster.netpol.model import NetworkPolicy, NetworkPolicySpec
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import ObjectMeta
from playground.registry import CNI_PLUGINS, POLICY_ENGINES


def test_every_cni_names_a_registered_engine():
    for plugin in CNI_PLUGINS.values():
        assert plugin.policy in POLICY_ENGINES
    assert CNI_PLUGINS["bridge"].policy == CNI_PLUGINS["vxlan"].policy == "none"


def deny_all(selector=None):
    spec = NetworkPolicySpec(selector or LabelSelector(), policy_types=["Ingress"])
    return NetworkPolicy(ObjectMeta("deny-all", "default"), spec)


@pytest.mark.parametrize("selector, noted", [(None, True),
                                             (LabelSelector({"app": "db"}), False)])
async def test_bridge_delivers_and_says_the_policy_is_not_enforced(lab, selector, noted):
    assert lab.policy.name == "none" and lab.policy.status() == "not enforced by this CNI"
    lab.api.create(deny_all(selector))
    trace = send(lab, "pod/client", "pod/web-1", "tcp", 80)
    assert trace.verdict == "delivered"
    if noted:
        assert trace.notes[0] == ("default/deny-all selects pod web-1 but the bridge CNI "
                                  "enforces no NetworkPolicy")
        assert "would drop it: ingress denied" in trace.notes[1]
        assert "note: default/deny-all selects pod web-1" in trace.text()
    else:
        assert trace.notes == []


async def test_a_service_trace_is_judged_after_dnat(lab):
    lab.api.create(deny_all())
    trace = send(lab, "pod/client", "svc/web", "tcp", 80)
    assert trace.verdict == "delivered"
    pod = trace.delivered_to.namespace.rsplit("/", 1)[-1]
    assert trace.notes[0].startswith(f"default/deny-all selects pod {pod} ")
