"""Reading what may be a pipe or a device, bounded: a named pipe without a writer opens at
once and is empty, a writer that never finishes gets a time budget, and lab files are read
from regular files only. Nothing here may hang: a test that would waits on its own guard."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late

import pytest

from playground.cluster.manifests import ManifestError, apply_files
from playground.limits import LimitError, read_bounded
from playground.saves import LabFileError, is_lab_file, load_lab


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def without_hanging(fifo, call):
    """`call()`, which must not wait for a writer; if it does, the guard writes to the pipe
    so the blocked open returns, and the test fails instead of hanging."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call)
        try:
            return future.result(timeout=30)
        except Late:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            raise AssertionError("it waited for a writer of the pipe") from None


def test_a_pipe_without_a_writer_opens_at_once_and_is_empty(fifo):
    assert without_hanging(fifo, lambda: read_bounded(fifo, 1024)) == b""


def test_a_pipe_is_read_to_its_end_and_to_the_limit():
    read, write = os.pipe()
    os.write(write, b"kind: Pod\n")
    os.close(write)
    try:
        assert read_bounded(f"/proc/self/fd/{read}", 1024) == b"kind: Pod\n"
    finally:
        os.close(read)
    read, write = os.pipe()
    os.write(write, b"x" * 100)
    try:
        with pytest.raises(LimitError, match="more than 64 bytes, the most a manifest may"):
            read_bounded(f"/proc/self/fd/{read}", 64, "manifest", wait=0)
    finally:
        os.close(read)
        os.close(write)


def test_a_writer_that_never_finishes_has_a_budget():
    read, write = os.pipe()
    os.write(write, b"kind: Pod\n")
    try:
        with pytest.raises(LimitError) as error:
            read_bounded(f"/proc/self/fd/{read}", 1024, "manifest", wait=0)
    finally:
        os.close(read)
        os.close(write)
    assert str(error.value).endswith("its writer did not finish within 0 s (10 bytes so far); "
                                     "a manifest must end")


async def test_apply_of_a_pipe_without_a_writer_says_there_is_nothing(lab, fifo):
    with pytest.raises(ManifestError, match=f"^{fifo}: no objects passed to apply$"):
        await apply_files(lab, [str(fifo)])


def test_a_lab_file_is_read_from_a_regular_file_only(fifo):
    assert not without_hanging(fifo, lambda: is_lab_file(fifo))
    with pytest.raises(LabFileError) as error:
        without_hanging(fifo, lambda: asyncio.run(load_lab(fifo)))
    assert str(error.value) == (f"{fifo}: not a lab file: a named pipe, and a lab file is "
                                "read from a regular file only")
