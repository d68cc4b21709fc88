"""The kernel lab's lifetime: built only if its names are free, always torn down.

Teardown runs on success, on failure, on Ctrl-C and on SIGTERM: responders first (a
namespace lives on while a process is inside it), then every namespace the lab created.
A run killed outright (SIGKILL, power loss) cannot tear down; it leaves an owner record
naming its process and namespaces, and the next run removes those once that process is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from playground.verify.kernel import VerifyError, delete_namespace, existing_namespaces, run
from playground.verify.materialise import PREFIX, Plan, in_ns

# the probe client and responders run as scripts (stdlib only): as modules of the package
# each process would first import the whole lab, 0.2 s for every probe sent
PROGRAMS = Path(__file__).parent

OWNER_FOLDER = Path("/run/k8s-playground")


class KernelLab:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.created: list[str] = []
        self.responders: list[subprocess.Popen] = []
        self.files: list[Path] = []   # what the queue programs read, removed at teardown
        self._old_term = None

    def __enter__(self) -> KernelLab:
        reclaim_leftovers()
        taken = sorted(set(self.plan.namespaces) & existing_namespaces())
        if taken:
            raise VerifyError(f"network namespaces already exist: {', '.join(taken)} "
                              "(another verify running, or left over: `ip netns del NAME`)")
        write_owner(self.plan.namespaces)
        self._old_term = signal.signal(signal.SIGTERM, _interrupt)
        try:
            for command in self.plan.commands:
                if command.argv[:3] == ("ip", "netns", "add"):
                    self.created.append(command.argv[3])
                run(command)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start_responder(self, ns: str, name: str, specs: list[str],
                        script: str = "responder.py", argv: list[str] | None = None) -> None:
        arguments = [name, *specs] if argv is None else argv
        process = subprocess.Popen(
            in_ns(ns, sys.executable, str(PROGRAMS / script), *arguments).argv,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.responders.append(process)
        if process.stdout.readline().strip() != "ready":
            process.wait(timeout=5)
            why = process.stderr.read().strip() or f"exit {process.returncode}"
            raise VerifyError(f"the responder in {ns} did not start: {why}")

    def start_queue_program(self, ns: str, number: int, verdicts: dict[str, str]) -> None:
        """queue_program.py bound to queue `number` in `ns`, answering from `verdicts`."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="verify-queue-",
                                         delete=False) as file:
            json.dump(verdicts, file)
        self.files.append(Path(file.name))
        self.start_responder(ns, f"queue {number}", [], script="queue_program.py",
                             argv=[str(number), file.name])

    def close(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)
        self.files = []
        for process in self.responders:
            if process.poll() is None:
                process.terminate()
        for process in self.responders:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                stream.close()
        self.responders = []
        for name in reversed(self.created):
            delete_namespace(name)
        self.created = []
        owner_record().unlink(missing_ok=True)
        if self._old_term is not None:
            signal.signal(signal.SIGTERM, self._old_term)
            self._old_term = None


def owner_record() -> Path:
    return OWNER_FOLDER / f"verify-{PREFIX.rstrip('-')}.json"


def write_owner(namespaces: list[str]) -> None:
    OWNER_FOLDER.mkdir(parents=True, exist_ok=True)
    owner_record().write_text(json.dumps({"pid": os.getpid(), "namespaces": namespaces}))


def reclaim_leftovers() -> None:
    """Remove the namespaces of an earlier run that died without tearing down."""
    try:
        owner = json.loads(owner_record().read_text())
        pid, names = int(owner["pid"]), [str(name) for name in owner["namespaces"]]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no record, or not one of ours: whatever exists stays and is refused
    if _alive(pid):
        return
    for name in set(names) & existing_namespaces():
        if name.startswith(PREFIX):
            delete_namespace(name)
    owner_record().unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupt(signum, frame):
    raise KeyboardInterrupt
