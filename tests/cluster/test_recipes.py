"""Dataplane recipes: found by name, asked for their controllers and node agents; the
Cluster wires whatever a registered recipe gives it."""

from __future__ import annotations

import pytest

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.controllers.base import Controller
from playground.cluster.recipe import Recipe
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES


@pytest.mark.parametrize(("registry", "line"), [
    (CNI_PLUGINS, "unknown CNI plugin 'flannel': choose one of bridge, ptp, vxlan, cilium, "
                  "cilium-vxlan"),
    (PROXY_MODES, "unknown proxy mode 'userspace': choose one of iptables, nftables, ipvs"),
    (LB_PROVIDERS, "unknown load-balancer provider 'f5': choose one of cloud, metallb, "
                   "cloud-provider-kind"),
])
def test_an_unknown_name_gets_one_line_naming_the_known_ones(registry, line):
    with pytest.raises(ValueError) as caught:
        registry.find(line.split("'")[1])
    assert str(caught.value) == line


@pytest.mark.parametrize(("options", "word"), [
    ({"cni": "flannel"}, "CNI plugin"), ({"proxy_mode": "userspace"}, "proxy mode"),
    ({"lb": "f5"}, "load-balancer provider"), ({"lb": {"a": 1}}, "load-balancer")])
def test_a_cluster_of_an_unknown_recipe_is_refused_in_one_line(options, word):
    with pytest.raises(ClusterError, match=f"^unknown {word}"):
        Cluster(**options)


def test_a_cni_that_replaces_kube_proxy_says_so_in_its_protocol():
    assert {name: plugin.replaces_kube_proxy for name, plugin in CNI_PLUGINS.items()} == {
        "bridge": False, "ptp": False, "vxlan": False, "cilium": True, "cilium-vxlan": True}


@pytest.mark.parametrize(("cni_name", "mode", "agents"), [
    ("bridge", "iptables", ["Kubelet", "NodeRouteAgent", "KubeProxy"]),
    ("ptp", "ipvs", ["Kubelet", "NodeRouteAgent", "IpvsProxy", "KnpAgent"]),
    ("vxlan", "iptables", ["Kubelet", "FlannelAgent", "KubeProxy"]),
    ("cilium", "iptables", ["Kubelet", "CiliumAgent", "CiliumPolicyAgent"]),
])
async def test_each_node_runs_what_its_recipes_start(cni_name, mode, agents):
    cluster = Cluster(cni=cni_name, proxy_mode=mode)
    await cluster.start()
    try:
        await cluster.add_node("n1")
        assert [type(a).__name__ for a in cluster.node_agents["n1"]] == agents
    finally:
        await cluster.stop()


class Speaker(Controller):
    def __init__(self, node: str) -> None:
        super().__init__()
        self.node, self.started = node, False

    def start(self) -> None:
        self.started = True


class Announcer(Recipe):
    """A load-balancer provider in the shape MetalLB would have: a controller for the
    cluster, a speaker on every node."""

    name = "announcer"
    pool = LB_PROVIDERS["cloud"].pool

    def __init__(self, wiring) -> None:
        super().__init__(wiring)
        self.controller = Speaker("")

    def controllers(self) -> list:
        return [self.controller]

    def node_agents(self, node: str, ns) -> list:
        return [Speaker(node)]


async def test_a_new_provider_is_one_class_and_one_registration(monkeypatch):
    monkeypatch.setitem(LB_PROVIDERS, "announcer", Announcer)
    cluster = Cluster(lb="announcer")
    await cluster.start()
    try:
        await cluster.add_node("n1")
        assert cluster.lb.controller.started and cluster.lb.controller in cluster.controllers
        speaker = cluster.node_agents["n1"][-1]
        assert isinstance(speaker, Speaker) and speaker.node == "n1" and speaker.started
    finally:
        await cluster.stop()


def test_a_name_of_the_wrong_type_is_simply_unknown():
    """A lab file's settings may hold a map where a name belongs: no TypeError escapes."""
    assert {"a": 1} not in PROXY_MODES and PROXY_MODES.get(["x"]) is None
    with pytest.raises(ValueError, match="^unknown proxy mode"):
        PROXY_MODES.find({"a": 1})
