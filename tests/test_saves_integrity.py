"""A lab file's checksum: a damaged file is one line that says so and offers the backup or
the recovery file; older files without a checksum still open. Writers never collide."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import msgpack
import pytest

from playground import saves
from playground.atomic_files import remove_leftovers, temporary_name
from playground.saves import (
    DamagedLabFile,
    LabFileError,
    load_lab,
    pack_lab,
    parse_document,
    recovery_path,
    save_lab,
)
from playground.session.lab import Lab


@pytest.fixture
async def packed(lab):
    opened = Lab(lab)
    await opened.run("trace pod/client svc/web")
    return pack_lab(opened)


def flipped(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def test_every_flipped_bit_is_refused(packed):
    """Every bit of the head, and a fixed sample of the rest: never a file that opens."""
    bits = list(range(8 * saves.HEAD_BYTES)) + random.Random(5).sample(
        range(8 * saves.HEAD_BYTES, 8 * len(packed)), 3000)
    for bit in bits:
        with pytest.raises(LabFileError) as error:
            parse_document(flipped(packed, bit))
        assert "\n" not in str(error.value)


async def test_a_damaged_file_says_so_and_offers_the_backup(lab, packed, tmp_path):
    path = tmp_path / "lab.k8slab"
    await save_lab(Lab(lab), path)
    await save_lab(Lab(lab), path)  # now lab.k8slab.bak is the one before
    recovery_path().parent.mkdir(parents=True)
    recovery_path().write_bytes(packed)
    data = path.read_bytes()
    path.write_bytes(flipped(data, 8 * (len(data) - 40)))
    with pytest.raises(DamagedLabFile) as error:
        await load_lab(path)
    assert str(error.value) == (
        f"{path}: the file is damaged: its contents do not match the checksum written with "
        f"them; open {path}.bak or {recovery_path()} instead")


async def test_files_of_version_2_without_a_checksum_still_open(lab, packed, tmp_path):
    document = msgpack.unpackb(packed)
    del document["checksum"]
    path = tmp_path / "old.k8slab"
    path.write_bytes(msgpack.packb({**document, "version": 2}, use_bin_type=True))
    reopened = await load_lab(path)
    try:
        assert pack_lab(reopened) == packed
    finally:
        await reopened.close()


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


WRITER = textwrap.dedent("""
    import sys
    from playground.atomic_files import write_atomically
    for index in range(60):
        write_atomically(sys.argv[1], (sys.argv[2] * 20000).encode())
""")


def test_two_processes_saving_one_file_never_collide(tmp_path):
    path = tmp_path / "lab.k8slab"
    path.write_bytes(b"first")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), mark],
                                stderr=subprocess.PIPE) for mark in "ab"]
    errors = [writer.communicate()[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    assert path.read_bytes() in (b"a" * 20000, b"b" * 20000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.k8slab", "lab.k8slab.bak"]


def test_leftovers_of_dead_processes_go_and_live_ones_stay(tmp_path):
    target = tmp_path / "lab.k8slab"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    gone = [tmp_path / f".lab.k8slab.{dead}.0123456789ab.tmp",
            tmp_path / f".lab.k8slab.bak.{dead}.0123456789ab.tmp",
            tmp_path / ".lab.k8slab.x1y2z3ab.tmp",  # an older version's mkstemp name
            tmp_path / ".lab.k8slab.bak.tmp"]  # and its backup staging name
    alive = tmp_path / f".lab.k8slab.{os.getppid()}.0123456789ab.tmp"
    mine = temporary_name(target)  # a save of this process still writing
    for path in [*gone, alive, mine, tmp_path / ".other.k8slab.1.2.tmp"]:
        path.write_bytes(b"")
    assert sorted(remove_leftovers(target)) == sorted(gone)
    assert alive.exists() and mine.exists()


@pytest.mark.parametrize("replicas, message", [
    (1_000_000, "objects: that makes 1000006 pods in the lab, more than the 150000"),
    (600, "the Deployments want 598 more pods (deployment default/shop 598) than the nodes "
          "have addresses for"),
])
async def test_replicas_past_the_lab_are_refused_before_the_cluster_is_built(
        lab, tmp_path, replicas, message):
    from playground.cluster.objects import Container

    await lab.add_deployment("shop", [Container("c")], 2)
    document = msgpack.unpackb(pack_lab(Lab(lab)))
    document["objects"]["Deployment"]["columns"]["replicas"] = {"same": replicas}
    path = tmp_path / "big.k8slab"
    path.write_bytes(saves.pack_document(document))
    with pytest.raises(LabFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await load_lab(path)
