"""kube-proxy's table-driven traffic-policy and terminating-endpoint tests from a release
that still wrote out the full expected tables (pkg/proxy/iptables/proxier_test.go at
danwinship/kubernetes@01b3ac121f21c50fc71fdbba82ec51200ca17bea, from before 1.28), as labs:
TestInternalTrafficPolicyE2E (a ClusterIP Service with internalTrafficPolicy Cluster, then
Local) and
TestEndpointSliceWithTerminatingEndpointsTrafficPolicyLocal/Cluster (a LoadBalancer with
client-IP affinity, the Local one with the test's healthCheckNodePort), each case one
hand-made EndpointSlice (ready, serving and terminating endpoints on this node and others);
the node's tables after kube-proxy's canonicalisation
must be the case's expected output (golden/kube_proxy/table-driven.expected).

Of the terminating tests, only the cases with the ProxyTerminatingEndpoints gate on: it went
GA in 1.28 and was removed, and the lab's kube-proxy (1.31) always falls back to serving
terminating endpoints. Renamed for the lab's addressing: 172.30.1.1 → 10.96.1.1, 1.2.3.4 →
198.51.100.4; the test's cluster CIDR 10.0.0.0/8 is set as kube-proxy's clusterCIDR option.
The LoadBalancers get no node port (allocateLoadBalancerNodePorts: false: the test's have
none); the Cluster one drops the test's healthCheckNodePort, which the API refuses on a
Cluster policy and that release's proxier ignored there. What the 1.31 proxier writes on
every sync whatever the Services is added to the old expected text: kubelet's KUBE-FIREWALL
rule, the nfacct counter on the INVALID drop and --random-fully."""

from __future__ import annotations

import pytest
import pytest_asyncio
from kube_golden import GOLDEN, canonical, chains_of, renamed

from playground.cluster.cluster import Cluster
from playground.cluster.objects import ObjectMeta
from playground.cluster.service import (
    SERVICE_NAME_LABEL,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    ServicePort,
)
from playground.net.netfilter import Netfilter

FIREWALL = ('-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" '
            "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT "
            "-j DROP")
RENAMES = [(r"\b172\.30\.1\.1\b", "10.96.1.1"), (r"\b1\.2\.3\.4\b", "198.51.100.4"),
           (r"(?m)-j MASQUERADE$", "-j MASQUERADE --random-fully"),
           (r"--ctstate INVALID -j DROP", "--ctstate INVALID -m nfacct --nfacct-name "
                                          "ct_state_invalid_dropped_pkts -j DROP"),
           (r":KUBE-PROXY-FIREWALL - \[0:0\]\n",
            f":KUBE-PROXY-FIREWALL - [0:0]\n:KUBE-FIREWALL - [0:0]\n{FIREWALL}\n")]
HERE, OTHER, HOST1 = "test-hostname", "another-host", "host-1"


def ready(address, node):
    return Endpoint(address, ready=True, serving=True, node_name=node)


def terminating(address, node, serving=True):
    return Endpoint(address, ready=False, serving=serving, terminating=True, node_name=node)


TERMINATING = "TestEndpointSliceWithTerminatingEndpointsTrafficPolicy"
LB = dict(type="LoadBalancer", load_balancer_ip="198.51.100.4", session_affinity="ClientIP",
          allocate_load_balancer_node_ports=False)
ITP = "TestInternalTrafficPolicyE2E"
SERVICES = {   # each test's Service (the iTP test changes its policy per case: one lab each)
    f"{ITP}/Cluster": dict(internal_traffic_policy="Cluster"),
    ITP: dict(internal_traffic_policy="Local"),
    f"{TERMINATING}Local": dict(LB, external_traffic_policy="Local",
                                health_check_node_port=30000),
    f"{TERMINATING}Cluster": LB,
}
CASES = {
    (ITP, "internalTrafficPolicy is cluster"): [
        ready("10.0.1.1", HERE), ready("10.0.1.2", "host1"), ready("10.0.1.3", "host2")],
    (ITP,
     "internalTrafficPolicy is local and there are local endpoints"): [
        ready("10.0.1.1", HERE), ready("10.0.1.2", "host1"), ready("10.0.1.3", "host2")],
    (ITP,
     "internalTrafficPolicy is local and there are no local endpoints"): [
        ready("10.0.1.1", "host0"), ready("10.0.1.2", "host1"), ready("10.0.1.3", "host2")],
    (f"{TERMINATING}Local", "ready endpoints exist"): [
        ready("10.0.1.1", HERE), ready("10.0.1.2", HERE), terminating("10.0.1.3", HERE),
        terminating("10.0.1.4", HERE, serving=False), ready("10.0.1.5", HOST1)],
    (f"{TERMINATING}Local", "only terminating endpoints exist"): [
        terminating("10.0.1.2", HERE), terminating("10.0.1.3", HERE),
        terminating("10.0.1.4", HERE, serving=False), ready("10.0.1.5", HOST1)],
    (f"{TERMINATING}Local", "terminating endpoints on remote node"): [
        terminating("10.0.1.5", HOST1)],
    (f"{TERMINATING}Local", "no usable endpoints on any node"): [
        terminating("10.0.1.5", HERE, serving=False),
        terminating("10.0.1.5", HOST1, serving=False)],
    (f"{TERMINATING}Cluster", "ready endpoints exist"): [
        ready("10.0.1.1", HERE), ready("10.0.1.2", HERE), terminating("10.0.1.3", OTHER),
        terminating("10.0.1.4", OTHER, serving=False), ready("10.0.1.5", OTHER)],
    (f"{TERMINATING}Cluster", "only terminating endpoints exist"): [
        terminating("10.0.1.2", HERE), terminating("10.0.1.3", HERE),
        terminating("10.0.1.4", OTHER, serving=False), terminating("10.0.1.5", OTHER)],
    (f"{TERMINATING}Cluster", "terminating endpoints on remote node"): [
        terminating("10.0.1.5", HOST1)],
    (f"{TERMINATING}Cluster", "no usable endpoints on any node"): [
        terminating("10.0.1.5", HERE, serving=False),
        terminating("10.0.1.5", HOST1, serving=False)],
}


def expected(case: tuple[str, str]) -> list[str]:
    text = (GOLDEN / "table-driven.expected").read_text()
    sections = dict(part.partition("\n")[::2] for part in text.split("\n## ")[1:])
    nf = Netfilter()
    nf.restore(renamed(sections[": ".join(case)], RENAMES))
    return canonical(chains_of(nf.save(("filter", "nat"))))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def labs():
    """One lab per test's Service, made when a case first needs it."""
    made: dict[str, Cluster] = {}

    async def lab_for(test: str) -> Cluster:
        if test not in made:
            lab = made[test] = Cluster(seed=1)
            await lab.start()
            await lab.add_node(HERE)
            await lab.update_proxy_config("kube-proxy", "kube-system",
                                          cluster_cidr="10.0.0.0/8")
            await lab.add_namespace("ns1")
            await lab.add_service("svc1", [ServicePort(80, 80)], namespace="ns1",
                                  cluster_ip="10.96.1.1", **SERVICES[test])
        return made[test]
    yield lab_for
    for lab in made.values():
        await lab.stop()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", list(CASES), ids=[": ".join(case) for case in CASES])
async def test_the_lab_writes_the_cases_expected_rules(labs, case):
    cluster = await labs(f"{ITP}/Cluster" if case == (ITP, "internalTrafficPolicy is cluster")
                         else case[0])
    slice_ = EndpointSlice(ObjectMeta("svc1-1", "ns1", labels={SERVICE_NAME_LABEL: "svc1"}),
                           "ns1/svc1", CASES[case], [EndpointPort(80)])
    await cluster.add_endpoint_slice(slice_)
    try:
        saved = cluster.node_namespace(HERE).netfilter.save(["filter", "nat"])
        assert canonical(chains_of(saved)) == expected(case)
    finally:
        cluster.api.delete("EndpointSlice", "ns1", "svc1-1")
        await cluster.settle()


def test_the_cases_expect_different_tables():
    tables = [tuple(expected(case)) for case in CASES]
    assert len(set(tables)) == len(tables)
