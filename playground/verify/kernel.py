"""Talking to the real kernel: tools present, commands run, conntrack read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from ipaddress import IPv4Address

from playground.net.conntrack import Tuple
from playground.verify.materialise import Command, in_ns

TOOLS = ("ip", "bridge", "iptables-restore", "conntrack", "sysctl")
_TUPLE = re.compile(r"src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)")


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


def conntrack_flush(ns: str) -> None:
    subprocess.run(in_ns(ns, "conntrack", "-F").argv, capture_output=True)


def conntrack_entries(ns: str, flush: bool = False) -> list[tuple[Tuple, Tuple]]:
    """(original, reply) of every TCP and UDP entry of `conntrack -L` in a namespace;
    with `flush`, the table is emptied right after, in the same process start."""
    script = "conntrack -L && conntrack -F 2>/dev/null" if flush else "conntrack -L"
    entries = []
    for line in run(in_ns(ns, "sh", "-c", script)).splitlines():
        proto = line.split(maxsplit=1)[0] if line else ""
        found = _TUPLE.findall(line)
        if proto in ("tcp", "udp") and len(found) == 2:
            entries.append(tuple(Tuple(proto, IPv4Address(src), int(sport), IPv4Address(dst),
                                       int(dport)) for src, dst, sport, dport in found))
    return entries
