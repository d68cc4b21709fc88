"""The Object tab's few lines about a node."""

import pytest

from playground.tui.describe import describe


@pytest.mark.dataplanes("vxlan")
async def test_a_vxlan_node_shows_the_annotations_flannel_publishes(dataplane_lab):
    text = describe(dataplane_lab, "node/kind-worker")
    mac = dataplane_lab.node_namespace("kind-worker").device("flannel.1").mac
    assert f'    flannel.alpha.coreos.com/backend-data: {{"VNI":1,"VtepMAC":"{mac}"}}' in text
    assert "    flannel.alpha.coreos.com/public-ip: 172.18.0.2" in text


async def test_a_node_without_annotations_has_no_annotations_line(lab):
    assert "Annotations" not in describe(lab, "node/kind-worker")


async def test_a_gateway_and_its_route_show_their_status_and_can_be_deleted(lab):
    from pathlib import Path

    from playground.cluster.manifests import apply_files
    from playground.tui.forms import delete_line, places

    await apply_files(lab, [str(Path(__file__).parents[1] / "data" / "gateway" /
                                "quickstart.yaml")])
    assert "Reason:   Programmed" in describe(lab, "gw/default/eg")
    assert "Parent Ref:       default/eg" in describe(lab, "httproute/default/backend")
    assert delete_line("gw/default/eg") == "kubectl delete gateway eg"
    assert delete_line("httproute/default/backend") == "kubectl delete httproute backend"
    assert "gw/default/eg" in [spec for _, spec in places(lab, True)]
