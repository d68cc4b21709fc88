"""kube-proxy's options that make each node's rules its own: nodePortAddresses (node ports
on the node's addresses inside the CIDRs, or its primary IP) and detectLocalMode NodeCIDR
(the node's pod CIDR tells its pods' traffic), as the 1.31 iptables proxier writes them."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.service import ServicePort
from playground.proxy.rules import node_rules
from playground.saves import load_lab_bytes, pack_lab
from playground.session.lab import Lab
from playground.shell import Shell

NODES = {"kind-control-plane": "172.18.0.4", "kind-worker": "172.18.0.2",
         "kind-worker2": "172.18.0.3"}
JUMP = ('-m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
        'rule in this chain"')


def nat(lab, node):
    return lab.node_namespace(node).netfilter.save(["nat"]).splitlines()


def nodeport_jumps(lab, node):
    return [line for line in nat(lab, node)
            if line.startswith("-A KUBE-SERVICES") and "kubernetes service nodeports" in line]


async def node_port(lab) -> int:
    web = lab.api.get("Service", "default", "web")
    await lab.add_service("web-np", [ServicePort(80, 80, name="http")], type="NodePort",
                          selector=web.spec.selector)
    return lab.api.get("Service", "default", "web-np").spec.ports[0].node_port


async def patch(lab, text):
    result = await Shell(lab).run("kubectl patch kubeproxyconfiguration kube-proxy -n "
                                  f"kube-system -p '{text}'")
    assert result.output == "kubeproxyconfiguration.kubeproxy.config.k8s.io/kube-proxy patched\n"


async def test_node_port_addresses_open_node_ports_only_on_the_addresses_inside(lab):
    port = await node_port(lab)
    await patch(lab, '{"nodePortAddresses":["172.18.0.0/16"]}')
    for node, ip in NODES.items():
        assert nodeport_jumps(lab, node) == [f"-A KUBE-SERVICES -d {ip}/32 {JUMP} "
                                             "-j KUBE-NODEPORTS"]
        # no loopback in the CIDRs: localhost node ports are off (ContainsIPv4Loopback)
        assert not any("127.0.0.0/8" in line for line in nat(lab, node)
                       if line.startswith("-A KUBE-NODEPORTS"))
    assert send(lab, "node/kind-control-plane", "172.18.0.2", port=port).verdict \
        == "delivered"
    assert send(lab, "pod/client", "10.244.1.1", port=port).verdict != "delivered"
    assert send(lab, "node/kind-worker", "127.0.0.1", port=port).verdict != "delivered"


async def test_loopback_in_the_addresses_keeps_localhost_node_ports(lab):
    port = await node_port(lab)
    await patch(lab, '{"nodePortAddresses":["127.0.0.0/8","172.18.0.2/32"]}')
    assert nodeport_jumps(lab, "kind-worker") == [
        f"-A KUBE-SERVICES -d 127.0.0.1/32 {JUMP} -j KUBE-NODEPORTS",
        f"-A KUBE-SERVICES -d 172.18.0.2/32 {JUMP} -j KUBE-NODEPORTS"]
    assert nodeport_jumps(lab, "kind-worker2") == [   # its own loopback only
        f"-A KUBE-SERVICES -d 127.0.0.1/32 {JUMP} -j KUBE-NODEPORTS"]
    assert send(lab, "node/kind-control-plane", "172.18.0.3", port=port).verdict \
        != "delivered"
    assert send(lab, "node/kind-worker", "127.0.0.1", port=port).verdict == "delivered"
    await patch(lab, '{"iptables":{"localhostNodePorts":false}}')
    assert nodeport_jumps(lab, "kind-worker") == [
        f"-A KUBE-SERVICES -d 172.18.0.2/32 {JUMP} -j KUBE-NODEPORTS"]


async def test_primary_opens_node_ports_on_each_nodes_own_ip(lab):
    await patch(lab, '{"nodePortAddresses":["primary"]}')
    for node, ip in NODES.items():
        assert nodeport_jumps(lab, node) == [f"-A KUBE-SERVICES -d {ip}/32 {JUMP} "
                                             "-j KUBE-NODEPORTS"]
    await patch(lab, '{"nodePortAddresses":[]}')   # back to every local address
    assert nodeport_jumps(lab, "kind-worker") == [
        f"-A KUBE-SERVICES {JUMP} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"]


@pytest.mark.parametrize("addresses, message", [
    (["primary", "10.0.0.0/8"], "nodePortAddresses[0]: Invalid value: \"primary\": can't use "
                                "both 'primary' and CIDRs"),
    (["10.0.0.0/8", "primary"], "nodePortAddresses[1]: Invalid value: \"primary\": can't use "
                                "both 'primary' and CIDRs"),
    (["10.0.0.1"], "nodePortAddresses[0]: Invalid value: \"10.0.0.1\": must be a valid CIDR"),
    ("10.0.0.0/8", "nodePortAddresses must be a list of CIDRs"),
])
async def test_bad_node_port_addresses_are_refused(lab, addresses, message):
    before = nat(lab, "kind-worker")
    with pytest.raises(ClusterError) as refused:
        await lab.update_proxy_config("kube-proxy", "kube-system",
                                      node_port_addresses=addresses)
    assert str(refused.value).endswith(message)
    assert nat(lab, "kind-worker") == before


async def test_node_cidr_detection_uses_each_nodes_pod_cidr(lab):
    await patch(lab, '{"detectLocalMode":"NodeCIDR"}')
    config = lab.api.get("KubeProxyConfiguration", "kube-system", "kube-proxy")
    slices = {}
    for slice_ in lab.api.list("EndpointSlice"):
        slices.setdefault(slice_.service, []).append(slice_)
    for node in NODES:
        pod_cidr = lab.api.get("Node", "", node).spec.pod_cidr
        web = next(line for line in nat(lab, node) if line.startswith("-A KUBE-SVC-")
                   and "default/web:http cluster IP" in line)
        assert f"! -s {pod_cidr} " in web
        # the node's view is the whole computation for that node, chain by chain
        expected = node_rules(lab.api.list("Service"), slices, node, lab.cluster_cidr,
                              config.options(), node_cidr=pod_cidr)
        shown = lab.node_namespace(node).netfilter
        for chain, lines in expected.nat.items():
            assert [r.spec() for r in shown.chain("nat", chain).rules] == lines, chain
    assert send(lab, "pod/client", "svc/web").verdict == "delivered"


async def test_the_node_options_are_kept_in_the_lab_file(lab):
    await patch(lab, '{"nodePortAddresses":["primary"],"detectLocalMode":"NodeCIDR"}')
    before = {node: nat(lab, node) for node in NODES}
    loaded = await load_lab_bytes(pack_lab(Lab(lab)))
    try:
        config = loaded.cluster.api.get("KubeProxyConfiguration", "kube-system", "kube-proxy")
        assert config.node_port_addresses == ["primary"]
        assert {node: nat(loaded.cluster, node) for node in NODES} == before
    finally:
        await loaded.close()
