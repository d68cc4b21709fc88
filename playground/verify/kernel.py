"""Talking to the real kernel: tools present, commands run, conntrack read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from playground.net.conntrack import Tuple
from playground.verify import ctnetlink
from playground.verify.materialise import Command

TOOLS = ("ip", "bridge", "iptables-restore", "conntrack", "sysctl")


class VerifyError(ValueError):
    """Why the kernel lab cannot be built or run, in one line."""


def missing_requirements() -> str | None:
    """None when this process can build kernel labs, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and iptables)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install iproute2 iptables conntrack)"
    return None


def _runnable(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`nfacct add NAME` (a lab script's line) through our own netlink call where the nfacct
    tool is not installed."""
    at = argv.index("nfacct") if "nfacct" in argv[:5] else -1
    if at < 0 or argv[at + 1:at + 2] != ("add",) or shutil.which("nfacct") is not None:
        return argv
    return (*argv[:at], sys.executable, "-m", "playground.verify.nfacct", *argv[at + 2:])


def run(command: Command) -> str:
    done = subprocess.run(_runnable(command.argv), input=command.stdin, capture_output=True,
                          text=True)
    if done.returncode != 0:
        why = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise VerifyError(f"`{' '.join(command.argv[:8])}` failed: "
                          f"{why[0] if why else f'exit {done.returncode}'}")
    return done.stdout


def existing_namespaces() -> set[str]:
    listing = run(Command(("ip", "netns", "list")))
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def delete_namespace(name: str) -> None:
    subprocess.run(("ip", "netns", "del", name), capture_output=True)


def conntrack_flush(namespaces: list[str]) -> None:
    """Empty these namespaces' tables, as `conntrack -F` in each would (a failure shows on
    the first read)."""
    for ns in namespaces:
        try:
            ctnetlink.flush([ns])
        except OSError:
            pass


def conntrack_entries(ns: str, flush: bool = False) -> list[tuple[Tuple, Tuple]]:
    """(original, reply) of every TCP and UDP entry of `conntrack -L` in a namespace;
    with `flush`, the table is emptied right after."""
    return conntrack_tables([ns], flush)[ns]


def conntrack_tables(namespaces: list[str], flush: bool = False) -> dict[str, list]:
    """conntrack_entries of several namespaces, read in one go (no process per table)."""
    try:
        return ctnetlink.tables(namespaces, flush)
    except OSError as error:
        raise VerifyError(f"reading conntrack over netlink failed: {error.strerror}") from None
