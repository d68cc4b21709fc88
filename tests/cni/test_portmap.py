"""hostPort through the CNI portmap plugin, chained after the main plugin as kindnet's and
flannel's conflists chain it: its chains in iptables-save, its DNAT in traces, its
masquerade of hairpin traffic, its teardown, and the scheduler's NodePorts filter."""

from __future__ import annotations

import hashlib
import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.objects import Container, ContainerPort
from playground.cni.portmap import dnat_chain


def host_port_pod(port: int = 8080, host_ip: str = "", protocol: str = "TCP") -> list[Container]:
    return [Container("web", "nginx", [ContainerPort(80, None, protocol, port, host_ip)])]


def nat(lab, node: str = "kind-worker") -> str:
    return lab.node_namespace(node).netfilter.save(["nat"])


def test_the_chain_name_is_the_plugins_hash():
    """MustFormatChainNameWithPrefix: CNI-DN- and SHA-512 of network name + id, 28 long."""
    digest = hashlib.sha512(b"kindnet" + b"abc").hexdigest()
    assert dnat_chain("kindnet", "abc") == ("CNI-DN-" + digest)[:28]
    assert len(dnat_chain("cbr0", "x" * 64)) == 28


@pytest.mark.parametrize("cni", ["bridge", "ptp", "vxlan"])
async def test_a_host_port_writes_portmaps_chains(cni):
    from playground.cluster.lab import build_default_lab
    lab = await build_default_lab(cni=cni)
    try:
        pod = await lab.add_pod("hp", host_port_pod(), node_name="kind-worker")
        text = nat(lab)
        chain = re.search(r"^:(CNI-DN-[0-9a-f]{21}) - ", text, re.M).group(1)
        name = lab.cni.net_name
        for line in (
                "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" '
                "-j CNI-HOSTPORT-MASQ",
                "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
                '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" '
                "-j MARK --set-xmark 0x2000/0x2000",
                f"-A {chain} -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                f"-A {chain} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                f"-A {chain} -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
                f"{pod.status.pod_ip}:80"):
            assert line in text.splitlines(), line
        jump = [line for line in text.splitlines() if line.startswith("-A CNI-HOSTPORT-DNAT")]
        assert len(jump) == 1 and jump[0].startswith(
            f'-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"{name}\\" id: \\"')
        assert jump[0].endswith(f'\\"" -m multiport --dports 8080 -j {chain}')
        # the Service portals come first: kube-proxy prepends, portmap appends its jump
        pre = [line for line in text.splitlines() if line.startswith("-A PREROUTING")]
        assert pre.index("-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT") > 0
        assert "CNI-HOSTPORT" not in nat(lab, "kind-worker2"), "only the pod's node has them"
    finally:
        await lab.stop()


async def test_cilium_chains_no_portmap():
    from playground.cluster.lab import build_default_lab
    lab = await build_default_lab(cni="cilium")
    try:
        await lab.add_pod("hp", host_port_pod(), node_name="kind-worker")
        assert "CNI-HOSTPORT" not in nat(lab)
    finally:
        await lab.stop()


async def test_a_packet_to_the_host_port_is_dnated_to_the_pod_and_the_reply_undone(lab):
    pod = await lab.add_pod("hp", host_port_pod(), node_name="kind-worker")
    trace = send(lab, "pod/web-1", "172.18.0.2", port=8080)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "pod/default/hp"
    dnat = [h for h in trace.hops if h.packet_before.dst != h.packet_after.dst]
    assert [(h.where, str(h.packet_after.dst), h.packet_after.dport) for h in dnat] == [
        ("node/kind-worker", pod.status.pod_ip, 80)]
    assert "CNI-DN-" in dnat[0].detail
    reply = lab.network.reply(trace)
    assert reply.verdict == "delivered"
    undone = [h for h in reply.hops if h.where == "node/kind-worker"
              and h.packet_before.src != h.packet_after.src]
    assert [(str(h.packet_after.src), h.packet_after.sport) for h in undone] == [
        ("172.18.0.2", 8080)]


async def test_a_pod_reaching_its_own_host_port_is_masqueraded_by_portmap(lab):
    """The hairpin rule marks it (source in the pod's subnet), CNI-HOSTPORT-MASQ rewrites it,
    so the answer comes back through the node."""
    await lab.add_pod("hp", host_port_pod(), node_name="kind-worker")
    trace = send(lab, "pod/hp", "172.18.0.2", port=8080)
    assert trace.verdict == "delivered" and trace.delivered_to.namespace == "pod/default/hp"
    masq = [h for h in trace.hops if h.packet_before.src != h.packet_after.src]
    assert len(masq) == 1 and "CNI-HOSTPORT-MASQ" in masq[0].detail
    assert str(masq[0].packet_after.src) == "10.244.1.1"


async def test_a_host_ip_limits_the_dnat_to_that_address(lab):
    await lab.add_pod("hp", host_port_pod(host_ip="172.18.0.2"), node_name="kind-worker")
    assert "-d 172.18.0.2/32 -p tcp -m tcp --dport 8080 -j DNAT" in nat(lab)


async def test_deleting_the_pod_takes_its_chain_away_and_the_port_closes(lab):
    await lab.add_pod("hp", host_port_pod(), node_name="kind-worker")
    await lab.delete_pod("hp")
    await lab.finish_terminations()
    text = nat(lab)
    assert "CNI-DN-" not in text and "-A CNI-HOSTPORT-DNAT" not in text
    assert ":CNI-HOSTPORT-DNAT - " in text, "the shared chains stay, as the plugin leaves them"
    assert send(lab, "pod/web-1", "172.18.0.2", port=8080).verdict == "rejected"


async def test_two_pods_with_one_host_port_never_share_a_node(lab):
    first = await lab.add_pod("a", host_port_pod())
    second = await lab.add_pod("b", host_port_pod())
    assert first.spec.node_name != second.spec.node_name
    await lab.add_pod("c", host_port_pod(protocol="UDP"))   # another protocol: no conflict
    with pytest.raises(ClusterError, match=re.escape(
            "0/3 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't have free ports "
            "for the requested pod ports.")):
        await lab.add_pod("d", host_port_pod())


async def test_a_specific_host_ip_conflicts_with_any_address_not_with_another(lab):
    await lab.add_pod("a", host_port_pod(), node_name="kind-worker")
    b = await lab.add_pod("b", host_port_pod(host_ip="172.18.0.2"))
    c = await lab.add_pod("c", host_port_pod(host_ip="172.18.0.3"))
    assert b.spec.node_name == c.spec.node_name == "kind-worker2"


@pytest.mark.parametrize("port, message", [
    (0, "hostPort: Invalid value: 0: must be between 1 and 65535, inclusive"),
    (70000, "hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive")])
async def test_a_host_port_out_of_range_is_refused(lab, port, message):
    with pytest.raises(ClusterError, match=re.escape(
            f'The Pod "x" is invalid: spec.containers[0].ports[0].{message}')):
        await lab.add_pod("x", host_port_pod(port))


async def test_one_host_port_twice_in_a_pod_is_refused(lab):
    containers = [Container("a", "nginx", [ContainerPort(80, None, "TCP", 8080)]),
                  Container("b", "nginx", [ContainerPort(81, None, "TCP", 8080)])]
    with pytest.raises(ClusterError, match=re.escape(
            'spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"')):
        await lab.add_pod("x", containers)
