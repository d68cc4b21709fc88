"""A save killed half-way leaves the old file whole, and its temporary file goes at the
next save of the file (or when it is next opened)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from playground.saves import load_lab, save_lab
from playground.session.lab import Lab

# the child saves a lab in small chunks and stops for good after the first one
CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from playground import atomic_files, saves
    from playground.cluster.lab import build_default_lab

    real_write = os.write
    def write_then_stop(fd, data):
        written = real_write(fd, data)
        print("paused", flush=True)
        sys.stdin.read()  # wait to be killed
        return written

    async def main():
        lab = saves.Lab(await build_default_lab(seed=7))
        await lab.run("trace pod/client svc/web")
        atomic_files.CHUNK = 512
        os.write = write_then_stop
        await saves.save_lab(lab, sys.argv[1])

    asyncio.run(main())
""")


async def test_killing_a_save_half_way_leaves_the_old_file_intact(lab, tmp_path):
    path = tmp_path / "lab.k8slab"
    await save_lab(Lab(lab), path)
    old = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "paused\n"
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(partial) == 1 and partial[0].stat().st_size == 512
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stdin.close()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == old and partial[0].exists()
    await save_lab(Lab(lab), path)  # the next save of the file removes the killed one's
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    reloaded = await load_lab(path)
    await reloaded.close()
