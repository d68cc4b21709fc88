"""`ipvsadm -L` and `ipset list` as commands on a namespace: the options they take here."""

from __future__ import annotations

from playground.net.ipset import IpsetError
from playground.net.netns import Namespace, NetError

IPVSADM_USAGE = "ipvsadm: use -Ln (the virtual services) or -Lnc (the connection entries)"


def ipvsadm(ns: Namespace, args: list[str], now: float) -> str:
    """`ipvsadm -Ln` or `ipvsadm -Lnc` (also spelled -L -n [-c], --list --numeric)."""
    flags = set()
    for arg in args:
        if arg in ("--list", "--numeric", "--connection"):
            flags.add({"--list": "L", "--numeric": "n", "--connection": "c"}[arg])
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            flags.update(arg[1:])
        else:
            raise NetError(f"{IPVSADM_USAGE} (not {arg!r})")
    if not flags or not flags <= {"L", "l", "n", "c"} or not flags & {"L", "l"}:
        raise NetError(IPVSADM_USAGE)
    if "n" not in flags:
        raise NetError("ipvsadm: add -n: this lab has no name service to resolve addresses")
    if ns.ipvs is None:
        raise NetError(f"ipvsadm: no IPVS in {ns.name} (its kube-proxy runs in iptables mode; "
                       "start a lab with --proxy-mode ipvs)")
    return ns.ipvs.connection_listing(now) if "c" in flags else ns.ipvs.listing(now)


def ipset(ns: Namespace, args: list[str]) -> str:
    """`ipset list [NAME]`."""
    if not args or args[0] not in ("list", "-L", "-list") or len(args) > 2:
        raise NetError("ipset: use ipset list [SETNAME]")
    try:
        return ns.ipset_list(args[1] if len(args) == 2 else None)
    except IpsetError as error:
        raise NetError(str(error)) from None
