"""The kernel lab's lifetime: built only if its names are free, always torn down.

Teardown runs on success, on failure, on Ctrl-C and on SIGTERM: responders first (a
namespace lives on while a process is inside it), then every namespace the lab created.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from playground.verify.kernel import VerifyError, delete_namespace, existing_namespaces, run
from playground.verify.materialise import Plan, in_ns


class KernelLab:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.created: list[str] = []
        self.responders: list[subprocess.Popen] = []
        self._old_term = None

    def __enter__(self) -> KernelLab:
        taken = sorted(set(self.plan.namespaces) & existing_namespaces())
        if taken:
            raise VerifyError(f"network namespaces already exist: {', '.join(taken)} "
                              "(another verify running, or left over: `ip netns del NAME`)")
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

    def start_responder(self, ns: str, name: str, specs: list[str]) -> None:
        process = subprocess.Popen(
            in_ns(ns, sys.executable, "-m", "playground.verify.responder", name, *specs).argv,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.responders.append(process)
        if process.stdout.readline().strip() != "ready":
            process.wait(timeout=5)
            why = process.stderr.read().strip() or f"exit {process.returncode}"
            raise VerifyError(f"the responder in {ns} did not start: {why}")

    def close(self) -> None:
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
        if self._old_term is not None:
            signal.signal(signal.SIGTERM, self._old_term)
            self._old_term = None


def _interrupt(signum, frame):
    raise KeyboardInterrupt
