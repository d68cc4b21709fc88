"""The vxlan plugin wires pods as flannel's delegate bridge does, at the tunnel's MTU."""

import pytest

from playground.net.link import Bridge
from playground.registry import CNI_PLUGINS


@pytest.mark.dataplanes("vxlan")
async def test_pods_and_cni0_get_the_node_links_mtu_less_the_vxlan_overhead(dataplane_lab):
    node = dataplane_lab.node_namespace("kind-worker")
    assert isinstance(node.device("cni0"), Bridge) and node.device("cni0").mtu == 1450
    client = dataplane_lab.network.namespace("pod/default/client")
    assert client.device("eth0").mtu == 1450
    assert client.device("eth0").peer.mtu == 1450
    assert node.device("eth0").mtu == 1500


async def test_the_other_plugins_keep_the_full_mtu(lab):
    assert lab.network.namespace("pod/default/client").device("eth0").mtu == 1500
    assert lab.node_namespace("kind-worker").device("cni0").mtu == 1500


def test_every_plugin_says_who_routes_between_nodes():
    assert {name: plugin.routing for name, plugin in CNI_PLUGINS.items()} == {
        "bridge": "kindnet", "ptp": "kindnet", "vxlan": "flannel", "cilium": "cilium",
        "cilium-vxlan": "cilium"}
