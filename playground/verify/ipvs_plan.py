"""A namespace's IPVS table and ipsets as real commands (ipset restore, ipvsadm-restore),
and whether this machine's kernel can hold them at all."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playground.net.netns import Namespace
from playground.verify.command import Command, in_ns

IPVS_TOOLS = ("ipvsadm", "ipset")


def ipvs_commands(name: str, ns: Namespace) -> list[Command]:
    """ipsets first (iptables rules name them), then the virtual services."""
    commands = []
    if ns.ipsets:
        lines = []
        for found in ns.ipsets.sets.values():
            options = "range 0-65535" if found.type == "bitmap:port" else \
                "family inet hashsize 1024 maxelem 65536"
            lines.append(f"create {found.name} {found.type} {options}")
            lines += [f"add {found.name} {member}" for member in sorted(found.members)]
        commands.append(in_ns(name, "ipset", "restore", stdin="\n".join(lines) + "\n"))
    if ns.ipvs is not None and ns.ipvs.services:
        lines = []
        for service in ns.ipvs.services.values():
            flag = "-t" if service.proto == "tcp" else "-u"
            where = f"{service.address}:{service.port}"
            persistent = f" -p {service.persistent}" if service.persistent is not None else ""
            lines.append(f"-A {flag} {where} -s {service.scheduler}{persistent}")
            # the kernel puts each new real server first: add the oldest first
            for dest in reversed(service.dests):
                lines.append(f"-a {flag} {where} -r {dest.text} -m -w {dest.weight}")
        commands.append(in_ns(name, "ipvsadm-restore", stdin="\n".join(lines) + "\n"))
    return commands


def ipvs_missing() -> str | None:
    """None when IPVS labs can be built here, else why not, in one line."""
    missing = [tool for tool in IPVS_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install ipvsadm ipset)"
    if not Path("/proc/net/ip_vs").exists() and shutil.which("modprobe"):
        subprocess.run(("modprobe", "ip_vs"), capture_output=True)
    if not Path("/proc/net/ip_vs").exists():
        return ("cannot check an IPVS lab on this machine: its kernel has no IPVS "
                "(/proc/net/ip_vs is missing and ipvsadm answers 'Protocol not available'; "
                "the kernel was built without CONFIG_IP_VS or cannot load ip_vs)")
    return None
