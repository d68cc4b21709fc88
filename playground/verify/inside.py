"""Work done inside network namespaces by a thread of this process: setns() moves only the
calling thread, the rest of the process stays where it was, and the thread ends after."""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"   # where `ip netns add` binds a namespace's name


def enter(name: str) -> None:
    """Move the calling thread into the named network namespace."""
    fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if hasattr(os, "setns"):   # Python 3.12 on
            os.setns(fd, CLONE_NEWNET)
        elif _libc().setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"setns into {name}: {os.strerror(code)}")
    finally:
        os.close(fd)


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)   # the running interpreter's own C library


class Inside:
    """`work()` run on its own thread; `enter` it first into each namespace it needs."""

    def __init__(self, work: Callable[[], object]) -> None:
        self._value: object = None
        self._error: BaseException | None = None
        # a daemon: a run interrupted mid-probe does not wait out the probe's timeout
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], object]) -> None:
        try:
            self._value = work()
        except BaseException as error:  # handed to the waiting thread, raised there
            self._error = error

    def wait(self) -> None:
        self._thread.join()

    def result(self):
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value
