"""Whatever happens during a run, no namespace of the lab is left behind."""

import os
import subprocess

import pytest

from playground.verify import cleanup, run
from playground.verify.kernel import VerifyError, existing_namespaces
from playground.verify.materialise import PREFIX, linux_name


def ours():
    return {name for name in existing_namespaces() if name.startswith(PREFIX)}


@pytest.mark.parametrize("failure", [VerifyError("the probe client failed"),
                                     KeyboardInterrupt()])
async def test_a_failed_probe_run_leaves_no_namespace(kernel, lab, monkeypatch, failure):
    before = ours()
    calls = []

    def failing_observe(probe, client, tracked):
        client.wait()
        calls.append(probe)
        assert linux_name(probe.source) in existing_namespaces(), "the lab was built"
        raise failure

    monkeypatch.setattr(run, "observe", failing_observe)
    with pytest.raises(type(failure)):
        run.verify(lab)
    assert calls and ours() == before


async def test_it_refuses_to_start_when_a_name_is_taken_and_leaves_that_one_alone(kernel, lab):
    taken = linux_name("internet")
    before = ours()
    subprocess.run(["ip", "netns", "add", taken], check=True)
    try:
        with pytest.raises(VerifyError, match=f"already exist: {taken}"):
            run.verify(lab)
        assert ours() == before | {taken}
    finally:
        subprocess.run(["ip", "netns", "del", taken], check=True)


@pytest.mark.parametrize("owner_alive", [False, True])
def test_a_killed_runs_namespaces_go_once_its_process_is_gone(kernel, tmp_path, monkeypatch,
                                                               owner_alive):
    monkeypatch.setattr(cleanup, "OWNER_FOLDER", tmp_path)
    left = linux_name("internet")
    pid = os.getpid() if owner_alive else _dead_pid()
    subprocess.run(["ip", "netns", "add", left], check=True)
    try:
        cleanup.owner_record().write_text(f'{{"pid": {pid}, "namespaces": ["{left}"]}}')
        cleanup.reclaim_leftovers()
        assert (left in existing_namespaces()) == owner_alive
        assert cleanup.owner_record().exists() == owner_alive
    finally:
        subprocess.run(["ip", "netns", "del", left], capture_output=True)


def _dead_pid() -> int:
    """The pid of a process that has finished."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
