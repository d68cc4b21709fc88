"""kubectl apply of a changed Deployment rolls it out; its strategy comes from the manifest."""

from __future__ import annotations

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.manifests import apply_files

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: shop}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: "50%"}}
  template:
    metadata: {labels: {app: shop, tier: web}}
    spec:
      containers: [{name: shop, image: "IMAGE"}]
"""


def write(tmp_path, image: str, selector: str = "{app: shop}"):
    path = tmp_path / f"shop-{image.replace(':', '-')}.yaml"
    path.write_text(MANIFEST.replace("IMAGE", image).replace(
        "{matchLabels: {app: shop}}", f"{{matchLabels: {selector}}}"))
    return str(path)


async def test_applying_a_new_image_rolls_out_with_the_manifests_strategy(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "nginx:1")])
    deployment = lab.api.peek("Deployment", "default", "shop")
    assert (deployment.max_surge, deployment.max_unavailable) == (2, "50%")
    assert deployment.selector == {"app": "shop"}
    assert deployment.template.labels == {"app": "shop", "tier": "web"}
    await apply_files(lab, [write(tmp_path, "nginx:2")])
    sets = {rs.template.containers[0].image: rs.replicas for rs in lab.replica_sets("default")}
    # surge 2 over 4 and unavailable 2: the new one gets 2 (6 in all), the old drops to 2
    # (2 of 4 available), so the new one takes the 2 more the surge allows
    assert sets == {"nginx:1": 2, "nginx:2": 4}
    await lab.rollout_status("shop")
    sets = {rs.template.containers[0].image: rs.replicas for rs in lab.replica_sets("default")}
    assert sets == {"nginx:1": 0, "nginx:2": 4}


async def test_a_changed_selector_is_refused_as_immutable(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "nginx:1")])
    with pytest.raises(ClusterError, match="spec.selector: field is immutable"):
        await apply_files(lab, [write(tmp_path, "nginx:2", "{app: shop, tier: web}")])
