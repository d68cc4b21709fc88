"""Lab files that ask for too much, or hold the wrong types: one line each, before any
cluster is built or any packet is sent again."""

from __future__ import annotations

import msgpack
import pytest

from playground import saves
from playground.saves import LabFileError, load_lab, pack_lab, parse_document
from playground.session.lab import Lab


@pytest.fixture
async def packed(lab):
    opened = Lab(lab)
    await opened.run("trace pod/client svc/web")
    return pack_lab(opened)


@pytest.mark.parametrize("setting", ["proxy_mode", "cni", "cluster_cidr"])
def test_settings_of_the_wrong_type_are_one_line(packed, setting):
    document = msgpack.unpackb(packed)
    document["settings"][setting] = {"a": 1}
    with pytest.raises(LabFileError, match=f"settings.{setting}: expected a string, got dict"):
        parse_document(saves.pack_document(document))


def test_a_history_over_the_replay_budget_is_refused_before_it_runs(packed):
    document = msgpack.unpackb(packed)
    entry = {"line": "traffic pod/client svc/web --count 10000", "selected": None,
             "clock": 5.0, "rng": None}
    document["history"] = [dict(entry) for _ in range(5000)]
    with pytest.raises(LabFileError, match=r"history: its 5000 commands would send 50000000 "
                                           r"packets again, more than the 50000 .*\(the "
                                           r"first 5 fit\)"):
        parse_document(saves.pack_document(document))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
async def test_a_device_is_no_lab_file(device):
    with pytest.raises(LabFileError, match="not a lab file"):
        await load_lab(device)


@pytest.mark.parametrize("replicas, message", [
    (1_000_000, "objects: that makes 1000006 pods in the lab, more than the 200000"),
    (600, "the Deployments want 598 more pods (deployment default/shop 600 in all) than the "
          "nodes have addresses for"),
])
async def test_replicas_past_the_lab_are_refused_before_the_cluster_is_built(
        lab, tmp_path, replicas, message):
    from playground.cluster.objects import Container

    await lab.add_deployment("shop", [Container("c")], 2)
    document = msgpack.unpackb(pack_lab(Lab(lab)))
    columns = document["objects"]["Deployment"]["columns"]  # shop's row; coredns keeps 2
    columns["replicas"] = [replicas if name == "shop" else 2
                           for name in columns["metadata.name"]]
    path = tmp_path / "big.k8slab"
    path.write_bytes(saves.pack_document(document))
    with pytest.raises(LabFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await load_lab(path)


async def test_a_history_line_with_unicode_digits_is_skipped_not_a_crash(packed, tmp_path):
    document = msgpack.unpackb(packed)
    del document["checksum"]
    document["history"].append({"line": "trace pod/client svc/web --port 8\u00b2",
                                "selected": None, "clock": 9.0, "rng": None})
    path = tmp_path / "digits.k8slab"
    path.write_bytes(saves.pack_document(document))
    lab = await load_lab(path)
    try:
        assert lab.skipped == ["trace pod/client svc/web --port 8\u00b2"]
    finally:
        await lab.close()
