"""kube-proxy's own test of repeated partial syncs, TestSyncProxyRulesRepeated (kubernetes/
kubernetes pkg/proxy/nftables/proxier_test.go at 81810de635aa13aa0a32992f6def3aa9d6025ebc),
as a lab: after each change the table test-node's kube-proxy holds is the test's expected
dump (renamed as nft_golden_lab describes), and where the lab's events come as the test's
one sync, that sync's transaction has the test's number of operations.

The test's later steps change an endpoint's address in place, which a pod cannot do; the
sequence here stops before them."""

from pathlib import Path

from nft_golden_lab import (
    BASE_RENAMING,
    check_hashes,
    expected_sections,
    rename,
    sort_transaction,
)
from nft_replay import RecordingProxy, Replay

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.proxy.nft_table import NftServiceTable

REPEATED = Path(__file__).parent / "golden" / "nft" / "repeated.nft"
PORTS = {"svc1": 80, "svc2": 8080, "svc3": 80, "svc4": 80}
TEST_ENDPOINTS = {"svc1": "10.0.1.1", "svc2": "10.0.2.1", "svc3": "10.0.3.1",
                  "svc4": "10.0.4.1"}


class Repeated:
    def __init__(self, cluster: Cluster, proxy: RecordingProxy) -> None:
        self.cluster, self.proxy = cluster, proxy
        self.sections = expected_sections(REPEATED)
        self.base = expected_sections()["base"]

    async def add(self, name: str, with_pod: bool = True) -> None:
        await self.cluster.add_namespace(f"ns{name[-1]}")
        if with_pod:
            await self.pod(name)
        port = PORTS[name]
        await self.cluster.add_service(
            name, [ServicePort(port, port, name=f"p{port}")], namespace=f"ns{name[-1]}",
            selector={"app": name}, cluster_ip=f"10.96.0.4{name[-1]}")

    async def pod(self, name: str) -> None:
        port = PORTS[name]
        await self.cluster.add_pod(f"{name}-ep", [Container("web", ports=[
            ContainerPort(port, f"p{port}")])], namespace=f"ns{name[-1]}",
            labels={"app": name}, node_name="node2")

    def renaming(self, name: str) -> list[tuple[str, str]]:
        pairs = [(f"172.30.0.4{name[-1]}", f"10.96.0.4{name[-1]}")]
        pod = self.cluster.api.peek("Pod", f"ns{name[-1]}", f"{name}-ep")
        if pod is not None:
            pairs.append((TEST_ENDPOINTS[name], pod.status.pod_ip))
        return pairs

    def expect(self, *sections: str, operations: int | None = None) -> None:
        wanted = rename(self.base, BASE_RENAMING)
        for section in sections:
            check_hashes(self.sections[section])
            service = section.split("-")[0]
            wanted += rename(rename(self.sections[section], self.renaming(service)),
                             BASE_RENAMING)
        expected = Replay()
        expected.run("\n".join(sort_transaction(wanted)))   # declarations first
        assert self.proxy.replay.state() == expected.state()
        if operations is not None:
            assert len(self.proxy.transactions[-1]) == operations


async def test_repeated_syncs_hold_the_tables_kube_proxys_test_expects():
    cluster = Cluster(seed=1)
    await cluster.start()
    await cluster.add_node("test-node", internal_ip="172.18.0.2", pod_cidr="10.244.2.0/24")
    await cluster.add_node("node2", internal_ip="172.18.0.3", pod_cidr="10.244.1.0/24")
    table = NftServiceTable(cluster.api, cluster.cluster_cidr)
    table.start()
    proxy = RecordingProxy(cluster.api, "test-node", None, table)
    proxy.replay, proxy.transactions = Replay(), []
    proxy.start()
    steps = Repeated(cluster, proxy)

    await steps.add("svc1")
    await steps.add("svc2")
    steps.expect("svc1", "svc2")
    await steps.add("svc3")
    steps.expect("svc1", "svc2", "svc3")
    await cluster.delete_service("svc2", namespace="ns2")
    # its two elements deleted, its two chains flushed and kept: 4 operations
    steps.expect("svc1", "svc2-deleted", "svc3", operations=4)
    await cluster.advance(2)
    await steps.add("svc4", with_pod=False)
    # the flushed chains deleted first, on their own; then 2 elements added
    assert proxy.transactions[-2] == [
        "delete chain ip kube-proxy " + line.split()[-1]
        for line in sorted(rename(steps.sections["svc2-deleted"], steps.renaming("svc2")))]
    steps.expect("svc1", "svc3", "svc4-no-endpoints", operations=2)
    await steps.pod("svc4")
    # an element each way, two chains added and flushed with two rules each: 10 operations
    steps.expect("svc1", "svc3", "svc4", operations=10)

    await table.stop()
    await cluster.stop()
