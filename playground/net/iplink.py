"""`ip link show`, `ip neigh show` and `bridge fdb show` of a namespace, as iproute2 prints
them, for the devices a tunnel needs (VXLAN) and the neighbour table."""

from __future__ import annotations

from playground.net.link import BROADCAST_MAC
from playground.net.netns import Namespace, NetError
from playground.net.vxlan import Vxlan

# What iproute2 prints after the vxlan attributes on a current kernel, for a device made
# with only `id local dev dstport nolearning`: the kernel's defaults.
VXLAN_DEFAULTS = ("ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx "
                  "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 "
                  "gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 "
                  "gro_max_size 65536 ")


def ifindex(ns: Namespace, name: str) -> int:
    """Devices are numbered in the order they were made, lo first, as in a new netns."""
    return list(ns.devices).index(name) + 1


def ip_link_show(ns: Namespace, name: str, details: bool = False) -> str:
    device = ns.device(name)
    if not isinstance(device, Vxlan):
        raise NetError(f"ip link: only VXLAN devices are modelled here ({name} is a "
                       f"{device.kind})")
    flags = "BROADCAST,MULTICAST,UP,LOWER_UP" if device.up else "BROADCAST,MULTICAST"
    state = "noqueue state UNKNOWN" if device.up else "noop state DOWN"
    lines = [f"{ifindex(ns, name)}: {name}: <{flags}> mtu {device.mtu} qdisc {state} "
             "mode DEFAULT group default qlen 1000",
             f"    link/ether {device.mac} brd {BROADCAST_MAC}"]
    if details:
        lines[1] += " promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 "
        parts = ["vxlan external" if device.external else f"vxlan id {device.vni}"]
        if device.local is not None:
            parts.append(f"local {device.local}")
        if device.underlay is not None:
            parts.append(f"dev {device.underlay}")
        parts += ["srcport 0 0", f"dstport {device.dstport}"]
        if not device.learning:
            parts.append("nolearning")
        lines.append("    " + " ".join(parts) + " " + VXLAN_DEFAULTS)
    return "\n".join(lines) + "\n"


def ip_neigh_show(ns: Namespace, dev: str | None = None) -> str:
    """Entries the model resolved by ARP show as REACHABLE; configured ones as PERMANENT."""
    if dev is not None:
        ns.device(dev)
    lines = []
    for ip, (mac, where) in sorted(ns.neighbours.items(), key=lambda e: (e[1][1], e[0])):
        if dev is not None and where != dev:
            continue
        state = "PERMANENT" if ip in ns.permanent_neighbours else "REACHABLE"
        on = "" if dev is not None else f" dev {where}"
        lines.append(f"{ip}{on} lladdr {mac} {state} \n")
    return "".join(lines)


def bridge_fdb_show(ns: Namespace, dev: str | None = None) -> str:
    """The forwarding entries of the VXLAN devices (the ones a tunnel agent writes)."""
    if dev is not None and not isinstance(ns.device(dev), Vxlan):
        raise NetError(f"bridge fdb: only the entries of VXLAN devices are modelled here "
                       f"({dev} is a {ns.device(dev).kind})")
    lines = []
    for device in ns.devices.values():
        if not isinstance(device, Vxlan) or dev not in (None, device.name):
            continue
        on = "" if dev is not None else f" dev {device.name}"
        for mac, remote in sorted(device.fdb.items()):
            lines.append(f"{mac}{on} dst {remote} self permanent\n")
    return "".join(lines)
