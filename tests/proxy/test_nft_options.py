"""The nftables mode honours its KubeProxyConfiguration as kube-proxy's nftables proxier does
(NewProxier, setupNFTables and syncProxyRules; proxyutil's local detector and
NodePortAddresses): `nftables.masqueradeAll|masqueradeBit`, detectLocalMode, and
nodePortAddresses (TestNodePorts: NodePorts on the primary address by default, on every
node address in the CIDRs given, on every local address with a zero CIDR)."""

import pytest
import pytest_asyncio

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.cluster.service import ServicePort
from playground.saves import load_lab_bytes, pack_lab
from playground.session.lab import Lab
from playground.shell import Shell

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nft_lab():
    cluster = await build_default_lab(proxy_mode="nftables")
    await cluster.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                              selector={"app": "web"}, type="NodePort")
    yield cluster
    await cluster.stop()


def table(cluster, node="kind-worker") -> str:
    return cluster.node_namespace(node).nft.list(["table", "ip", "kube-proxy"])


def web_chain(cluster, node="kind-worker") -> list[str]:
    """The rules of default/web's service chain, as nft lists them."""
    text = table(cluster, node)
    start = text.index("chain service-SUSTUHLJ-default/web/tcp/http {")
    return [line.strip() for line in text[start:text.index("}", start)].splitlines()[1:]]


async def patch(cluster, body: str) -> None:
    await Shell(cluster).run("kubectl patch kubeproxyconfiguration kube-proxy -n kube-system "
                             f"-p '{body}'")


async def test_masquerade_all_and_the_bit_are_the_nftables_sections_own(nft_lab):
    vip = nft_lab.find_service("web").spec.cluster_ip
    client = nft_lab.find_pod("client").status.pod_ip
    assert str(send(nft_lab, "pod/client", "svc/web").delivered_packet.src) == client
    assert web_chain(nft_lab)[0] == f"ip daddr {vip} ip saddr != 10.244.0.0/16 jump " \
                                    "mark-for-masquerade"
    await patch(nft_lab, '{"iptables":{"masqueradeAll":true,"masqueradeBit":3}}')
    assert "meta mark set meta mark | 0x00004000" in table(nft_lab)   # not nftables': unread
    await patch(nft_lab, '{"nftables":{"masqueradeAll":true,"masqueradeBit":15}}')
    for node in ("kind-worker", "kind-worker2"):
        assert "meta mark set meta mark | 0x00008000" in table(nft_lab, node)
        assert web_chain(nft_lab, node)[0] == f"ip daddr {vip} jump mark-for-masquerade"
    trace = send(nft_lab, "pod/client", "svc/web")   # a pod's own call is masqueraded now
    assert trace.verdict == "delivered"
    assert str(trace.delivered_packet.src) != client
    await patch(nft_lab, '{"nftables":{"masqueradeAll":false,"masqueradeBit":14}}')


@pytest.mark.parametrize(("body", "match"), [
    ('{"detectLocalMode":"BridgeInterface","detectLocal":{"bridgeInterface":"cni0"}}',
     'iifname != "cni0"'),
    ('{"detectLocalMode":"InterfaceNamePrefix","detectLocal":{"interfaceNamePrefix":"veth"}}',
     'iifname != "veth*"'),
    ('{"detectLocalMode":"ClusterCIDR","clusterCIDR":"10.0.0.0/8"}', "ip saddr != 10.0.0.0/8"),
])
async def test_the_local_traffic_detector_writes_its_match(nft_lab, body, match):
    await patch(nft_lab, body)
    assert web_chain(nft_lab)[0].split(" ", 3)[3] == f"{match} jump mark-for-masquerade"


async def test_node_cidr_gives_each_node_its_own_pod_cidr(nft_lab):
    await patch(nft_lab, '{"detectLocalMode":"NodeCIDR","clusterCIDR":""}')
    for node in ("kind-worker", "kind-worker2"):
        pod_cidr = nft_lab.api.get("Node", "", node).spec.pod_cidr
        assert f"ip saddr != {pod_cidr} jump" in web_chain(nft_lab, node)[0]
    assert send(nft_lab, "pod/client", "svc/web").verdict == "delivered"
    await patch(nft_lab, '{"detectLocalMode":"ClusterCIDR"}')


async def test_node_ports_listen_where_node_port_addresses_say(nft_lab):
    public = nft_lab.api.get("Node", "", "kind-worker").status.external_ip
    bridge = "10.244.1.1"   # kind-worker's cni0 address
    # the mode's default, primary: the node's InternalIP only
    assert send(nft_lab, "internet", public, port=30080).verdict == "delivered"
    assert send(nft_lab, "node/kind-worker", bridge, port=30080).verdict == "rejected"
    # CIDRs: every node address in them (here cni0's), and no longer the primary one
    await patch(nft_lab, '{"nodePortAddresses":["10.244.0.0/16"]}')
    assert f"elements = {{ {bridge} }}" in table(nft_lab)
    assert send(nft_lab, "node/kind-worker", bridge, port=30080).verdict == "delivered"
    assert send(nft_lab, "internet", public, port=30080).verdict == "rejected"
    # a zero CIDR: no @nodeport-ips, every local address but 127/8
    await patch(nft_lab, '{"nodePortAddresses":["0.0.0.0/0"]}')
    listing = table(nft_lab)
    assert "set nodeport-ips" not in listing
    assert "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap " \
           "@service-nodeports" in listing
    assert send(nft_lab, "node/kind-worker", bridge, port=30080).verdict == "delivered"
    assert send(nft_lab, "internet", public, port=30080).verdict == "delivered"
    await patch(nft_lab, '{"nodePortAddresses":["primary"]}')
    assert f"elements = {{ {nft_lab.api.get('Node', '', 'kind-worker').status.internal_ip} }}" \
        in table(nft_lab)


@pytest.mark.parametrize(("changes", "message"), [
    (dict(node_port_addresses=["primary", "10.0.0.0/8"]),
     "nodePortAddresses\\[0\\]: Invalid value: \"primary\": can't use both 'primary' and CIDRs"),
    (dict(node_port_addresses=["10.20.30.40"]),
     'nodePortAddresses\\[0\\]: Invalid value: "10.20.30.40": must be a valid CIDR'),
    (dict(nft_masquerade_bit=32), "nftables.masqueradeBit: Invalid value: 32"),
])
async def test_bad_options_are_refused_and_change_nothing(nft_lab, changes, message):
    before = table(nft_lab)
    with pytest.raises(ClusterError, match=message):
        await nft_lab.update_proxy_config("kube-proxy", "kube-system", **changes)
    assert table(nft_lab) == before


async def test_the_options_come_back_with_the_lab_file(nft_lab):
    """(A CIDR of the nodes' own network: kube-proxy reads the addresses when it starts,
    and a loaded lab's starts before the CNI has given cni0 its address, as on a node.)"""
    await patch(nft_lab, '{"nodePortAddresses":["172.18.0.0/16"],"nftables":{"masqueradeBit":9}}')
    before = table(nft_lab)
    loaded = await load_lab_bytes(pack_lab(Lab(nft_lab)))
    try:
        config = loaded.cluster.api.get("KubeProxyConfiguration", "kube-system", "kube-proxy")
        assert config.node_port_addresses == ["172.18.0.0/16"]
        assert blocks(table(loaded.cluster)) == blocks(before)
    finally:
        await loaded.close()
    await patch(nft_lab, '{"nodePortAddresses":[],"nftables":{"masqueradeBit":14}}')


def blocks(listing: str) -> list[str]:
    """The table's sets, maps and chains, sorted (a loaded lab makes them in another order)."""
    return sorted(b.strip() for b in listing.rstrip().removesuffix("}").split("\n\n"))
