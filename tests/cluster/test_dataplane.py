"""Dataplane specs as a user writes them: CNI[/PROXY_MODE]."""

import pytest

from playground.cluster.dataplane import DEFAULT_PROXY_MODE, Dataplane, choices, proxy_modes
from playground.registry import CNI_PLUGINS


def test_a_cni_alone_runs_the_default_proxy_mode():
    assert Dataplane.parse("ptp") == Dataplane("ptp", DEFAULT_PROXY_MODE)
    assert str(Dataplane.parse(" bridge ")) == "bridge"


def test_a_proxy_mode_is_kept_and_shown():
    plane = Dataplane.parse(f"ptp/{DEFAULT_PROXY_MODE}")
    assert plane.proxy_mode == DEFAULT_PROXY_MODE and str(plane) == "ptp"


@pytest.mark.parametrize("text, says", [
    ("", "write CNI[/PROXY_MODE]"),
    ("/iptables", "write CNI[/PROXY_MODE]"),
    ("flannel", "unknown CNI 'flannel'"),
    ("bridge/", "unknown kube-proxy mode ''"),
    ("bridge/nftables-ish", "unknown kube-proxy mode 'nftables-ish'"),
])
def test_bad_specs_are_one_line_naming_the_part(text, says):
    with pytest.raises(ValueError) as caught:
        Dataplane.parse(text)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_every_plugin_and_mode_is_a_choice():
    assert set(choices()) >= set(CNI_PLUGINS)
    assert DEFAULT_PROXY_MODE in proxy_modes()
    for text in choices():
        assert str(Dataplane.parse(text)) == text


def test_settings_move_a_lab_onto_the_dataplane_and_keep_the_rest():
    settings = {"cni": "bridge", "seed": 7}
    assert Dataplane("ptp").settings(settings) == {"cni": "ptp", "seed": 7}
    assert settings["cni"] == "bridge"
    moved = Dataplane("ptp", "ipvs").settings(settings)
    assert moved == {"cni": "ptp", "seed": 7, "proxy_mode": "ipvs"}
    assert Dataplane("bridge").settings(moved) == settings, "the default is not written"


def test_ipvs_is_a_mode_of_every_cni_that_runs_kube_proxy():
    from playground.cluster.cluster import Cluster, ClusterError

    assert {"bridge/ipvs", "ptp/ipvs", "vxlan/ipvs"} <= set(choices())
    assert "cilium/ipvs" not in choices()
    assert Dataplane.parse("ptp/ipvs") == Dataplane("ptp", "ipvs")
    with pytest.raises(ValueError, match="cilium replaces kube-proxy"):
        Dataplane.parse("cilium/ipvs")
    with pytest.raises(ClusterError, match="replaces kube-proxy"):
        Cluster(cni="cilium", proxy_mode="ipvs")
