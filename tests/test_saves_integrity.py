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


async def test_files_of_version_3_without_a_checksum_still_open(lab, packed, tmp_path):
    document = msgpack.unpackb(packed)
    del document["checksum"]
    path = tmp_path / "old.k8slab"
    path.write_bytes(msgpack.packb({**document, "version": 3}, use_bin_type=True))
    reopened = await load_lab(path)
    try:
        assert pack_lab(reopened) == packed
    finally:
        await reopened.close()


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
