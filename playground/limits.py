"""The lab's limits, each a clear error instead of memory or time running out (the README's
"Limits" lists them), and reading a file that may be a device or a pipe, bounded.

A limit is checked before anything changes: what is over it is refused whole.
"""

from __future__ import annotations

import os
import select
import stat
import time

MIB = 1024 * 1024
MAX_MANIFEST_BYTES = 4 * MIB  # about 20,000 small objects of YAML
MAX_LAB_BYTES = 256 * MIB  # the 5,000-node envelope is about 18 MB
MAX_YAML_DEPTH = 100  # collections inside collections; a real manifest needs about 15
MAX_YAML_ALIAS_NODES = 100_000  # values an alias may stand for, summed over a file's aliases
MAX_PODS = 200_000  # pods in one lab: the 5,000-node envelope (150,000) with room to work in it
MAX_COMMAND_LINE = 4_096  # characters of one command line (a lab file's history line too)
MAX_TRAFFIC_COUNT = 10_000  # connections of one `traffic` command
MAX_REPLAY_PACKETS = 50_000  # packets a lab file replays when it opens: about 30 s of CPU
MAX_PIPE_WAIT = 2.0  # seconds a pipe's or device's writer has, in all, to finish writing
CHUNK = 64 * 1024


class LimitError(ValueError):
    """Over one of the limits above; the message names it and the number."""


def file_kind(mode: int) -> str:
    """What `ls -l` would say a non-regular file is."""
    for test, name in ((stat.S_ISFIFO, "named pipe"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISDIR, "folder")):
        if test(mode):
            return name
    return "special file"


def read_bounded(path: str | os.PathLike, limit: int, what: str = "file",
                 wait: float = MAX_PIPE_WAIT) -> bytes:
    """At most `limit` bytes of PATH, else LimitError: a regular file, a device such as
    /dev/zero or a pipe all stop at the limit, so nothing reads forever or fills memory.
    A pipe is opened without waiting for a writer (none: it is empty) and its writer has
    `wait` seconds in all to finish, else LimitError too. OSError as open() raises it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)   # a FIFO's open() would wait
    budget = wait
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        os.set_blocking(fd, regular)
        chunks, total = [], 0
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            try:
                chunk = os.read(fd, min(CHUNK, limit + 1 - total))
            except BlockingIOError:   # a writer is there, and has not written more yet
                started = time.monotonic()
                if not poller.poll(max(0.0, wait) * 1000):
                    raise LimitError(f"{path}: its writer did not finish within "
                                     f"{budget:g} s ({total} bytes so far); a {what} "
                                     "must end") from None
                wait -= time.monotonic() - started
                continue
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise LimitError(f"{path}: more than {size_text(limit)}, the most a {what} "
                                 "may hold")
    finally:
        os.close(fd)


def size_text(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size} bytes"


def check_command_line(line: str) -> None:
    if len(line) > MAX_COMMAND_LINE:
        raise LimitError(f"the command line is {len(line)} characters long, more than the "
                         f"{MAX_COMMAND_LINE} a command may have")


def check_pod_total(current: int, adding: int) -> None:
    """Refuse, before anything changes, what would take the lab past MAX_PODS pods."""
    if adding > 0 and current + adding > MAX_PODS:
        raise LimitError(f"that makes {current + adding} pods in the lab, more than the "
                         f"{MAX_PODS} a lab may hold")
