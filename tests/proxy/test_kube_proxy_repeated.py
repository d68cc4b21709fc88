"""kube-proxy's TestSyncProxyRulesRepeated for the iptables mode (pkg/proxy/iptables/
proxier_test.go at aroradaman/kubernetes@4177b600d4b97a67b765a18ddeeb295ef757b212, a 1.31-era
copy of kubernetes/kubernetes), as a lab: the same Services, without selectors, and their
hand-made EndpointSlices, changed step by step as the test changes them.

The test checks each sync's iptables-restore input, which is partial: the top-level chains
in full, then only the chains of the Services that changed (declared, so flushed, and
refilled) and `-X` for the chains that went away. Those inputs, replayed in order by the
lab's own `iptables-restore --noflush`, are the tables a node holds after each step; the lab
node must hold exactly that, and must not have rewritten the chains of any Service whose
chains the test's sync left out.

Renamed as in TestOverallIPTablesRules' lab: Service IPs 172.30.0.N are 10.96.0.N, and
MASQUERADE gets the --random-fully the lab's iptables can do. The test's cluster CIDR
(10.0.0.0/8) is set as kube-proxy's clusterCIDR option. The test's forced failure (a rule
added behind kube-proxy's back to make a partial restore fail) has no lab equivalent: the
lab's last step is the full resync that follows it, which deletes svc4."""

from __future__ import annotations

import re

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

RENAMES = [(r"\b172\.30\.0\.(\d+)\b", r"10.96.0.\1"),
           (r"(?m)-j MASQUERADE$", "-j MASQUERADE --random-fully")]
PORTS = {"svc1": 80, "svc2": 8080, "svc3": 80, "svc4": 80}
_OWN_CHAIN = re.compile(r"^:(KUBE-(?:SVC|SEP)-\w+)", re.M)


def steps() -> list[tuple[str, str]]:
    """The test's expected restore inputs, (step, text), in order."""
    text = (GOLDEN / "repeated.expected").read_text()
    found = []
    for part in text.split("\n## ")[1:]:
        name, _, body = part.partition("\n")
        found.append((name, renamed(body, RENAMES)))
    return found


class Lab:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.replayed = Netfilter()   # the node's tables as the test's syncs leave them
        self.seen: dict[str, int] = {}

    @property
    def nat(self):
        return self.cluster.node_namespace("test-node").netfilter.table("nat").chains

    async def add(self, name: str, address: str | None) -> None:
        namespace, port = f"ns{name[-1]}", PORTS[name]
        await self.cluster.add_namespace(namespace)
        await self.cluster.add_service(name, [ServicePort(port, port, name=f"p{port}")],
                                       namespace=namespace, cluster_ip=f"10.96.0.4{name[-1]}")
        if address is not None:
            await self.endpoints(name, [address])

    async def endpoints(self, name: str, addresses: list[str]) -> None:
        """Create the Service's slice, or change its endpoints as OnEndpointSliceUpdate."""
        namespace, port = f"ns{name[-1]}", PORTS[name]
        endpoints = [Endpoint(address) for address in addresses]
        if self.cluster.api.peek("EndpointSlice", namespace, f"{name}-1") is None:
            await self.cluster.add_endpoint_slice(EndpointSlice(
                ObjectMeta(f"{name}-1", namespace, labels={SERVICE_NAME_LABEL: name}),
                f"{namespace}/{name}",
                endpoints, [EndpointPort(port, name=f"p{port}")]))
            return

        def edit(slice_: EndpointSlice) -> None:
            slice_.endpoints = endpoints
        self.cluster.api.change("EndpointSlice", namespace, f"{name}-1", edit)
        await self.cluster.settle()

    def rewritten(self) -> set[str]:
        """The Service chains the lab wrote since the last look (new objects)."""
        now = {name: id(chain) for name, chain in self.nat.items()
               if name.startswith(("KUBE-SVC-", "KUBE-SEP-"))}
        changed = {name for name, ident in now.items() if self.seen.get(name) != ident}
        self.seen = now
        return changed

    def expect(self, step: tuple[str, str]) -> None:
        name, text = step
        self.replayed.restore(text, noflush=True)
        wanted = canonical(chains_of(self.replayed.save(("filter", "nat"))))
        saved = self.cluster.node_namespace("test-node").netfilter.save(["filter", "nat"])
        assert canonical(chains_of(saved)) == wanted, name
        assert self.rewritten() <= set(_OWN_CHAIN.findall(text)), name


async def test_repeated_syncs_leave_the_tables_kube_proxys_test_expects() -> None:
    cluster = Cluster(seed=1)
    await cluster.start()
    await cluster.add_node("test-node")
    await cluster.update_proxy_config("kube-proxy", "kube-system", cluster_cidr="10.0.0.0/8")
    lab, expected = Lab(cluster), iter(steps())
    try:
        await lab.add("svc1", "10.0.1.1")
        await lab.add("svc2", "10.0.2.1")
        lab.expect(next(expected))
        await lab.add("svc3", "10.0.3.1")
        lab.expect(next(expected))
        await cluster.delete_service("svc2", namespace="ns2")
        lab.expect(next(expected))
        await lab.add("svc4", None)
        lab.expect(next(expected))
        await lab.endpoints("svc4", ["10.0.4.1"])
        lab.expect(next(expected))
        await lab.endpoints("svc3", ["10.0.3.2"])
        lab.expect(next(expected))
        await lab.endpoints("svc3", ["10.0.3.2", "10.0.3.3"])
        lab.expect(next(expected))
        await cluster.advance(60)   # a periodic sync with nothing to change
        lab.expect(next(expected))
        await cluster.delete_service("svc4", namespace="ns4")
        lab.expect(next(expected))
        assert next(expected, None) is None
    finally:
        await cluster.stop()


def test_the_steps_change_the_tables() -> None:
    """Each replayed step leaves different tables from the one before, except the sync
    with no change: the comparison above cannot pass on a lab that stood still."""
    nf, states = Netfilter(), []
    for _, text in steps():
        nf.restore(text, noflush=True)
        states.append(canonical(chains_of(nf.save(("filter", "nat")))))
    same = [i for i in range(1, len(states)) if states[i] == states[i - 1]]
    assert same == [7]
