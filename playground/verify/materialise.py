"""The lab as real Linux commands: namespaces, links, addresses, routes, sysctls, rules.

Everything is read from the model's state; nothing here knows what a node or a pod is.
Each L2 segment of the model (the node network, the internet) becomes a Linux bridge in
a namespace of its own, so no device ever touches the host's network namespace.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from playground.net.link import Bridge, Dummy, Ethernet, Loopback, Veth
from playground.net.netns import Namespace
from playground.net.network import Network
from playground.net.route import Route
from playground.net.vxlan import Vxlan
from playground.timefmt import iptables_date
from playground.verify.command import Command, in_ns
from playground.verify.ipvs_plan import ipvs_commands

# Two runs at once (two checkouts testing) each need their own namespace names.
PREFIX = os.environ.get("K8S_PLAYGROUND_VERIFY_PREFIX", "kpv-")
if not re.fullmatch(r"[a-z][a-z0-9]{0,7}-", PREFIX):
    raise SystemExit(f"K8S_PLAYGROUND_VERIFY_PREFIX={PREFIX!r}: give 1-8 lowercase letters "
                     "or digits and a final '-', like kpv-")
SEGMENT_BRIDGE = "br0"
# What the model takes for granted in every namespace, while a new Linux namespace may
# inherit the host's values: no reverse-path filter, ARP answered for any own address, and
# no per-host ICMP rate limit (the model has none: an ICMP redirect would empty the budget a
# later port unreachable to the same host needs, README: Fidelity).
ASSUMED_SYSCTLS = ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                   "net.ipv4.conf.all.arp_ignore=0", "net.ipv4.conf.default.arp_ignore=0",
                   "net.ipv4.icmp_ratelimit=0")


def linux_name(model_name: str) -> str:
    """`pod/default/web-1` → `kpv-pod_default_web-1` (Kubernetes names never hold `_`)."""
    return PREFIX + model_name.replace("/", "_")


def segment_namespace(segment: str) -> str:
    return f"{PREFIX}segment_{segment}"


def ip(ns: str, *argv: str) -> Command:
    return Command(("ip", "-n", ns, *argv))


@dataclass
class Plan:
    """The commands that build the lab, in order, and the namespaces they create."""

    namespaces: list[str]
    commands: list[Command]
    rule_namespaces: dict[str, str]  # Linux name → model name, where rules were loaded

    def script(self) -> str:
        names = " ".join(self.namespaces)
        head = ["#!/bin/sh",
                "# The lab as real network namespaces (run as root on a Linux machine).",
                "# Nothing here touches the host's own network namespace.",
                f"# Remove it all with: for ns in {names}; do ip netns del \"$ns\"; done",
                "set -e"]
        return "\n".join(head + [c.shell() for c in self.commands]) + "\n"


def bpf_users(network: Network) -> list[str]:
    """Namespaces whose packets eBPF programs handle: ip and iptables cannot build them."""
    return [ns.name for ns in network.namespaces.values()
            if ns.cgroup is not None or any(device.tc for device in ns.devices.values())]


def plan(network: Network) -> Plan:
    users = bpf_users(network)
    if users:
        raise ValueError(f"{users[0]} and {len(users) - 1} other namespaces run eBPF programs "
                         "(the cilium CNI); the kernel check builds labs with ip, sysctl and "
                         "iptables only and cannot load eBPF, so this lab cannot be checked "
                         "or exported as a script (README: Fidelity)")
    namespaces = [linux_name(name) for name in network.namespaces]
    segments = [segment_namespace(name) for name in network.segments]
    commands = [Command(("ip", "netns", "add", name)) for name in namespaces + segments]
    for name in namespaces + segments:
        commands.append(in_ns(name, "sysctl", "-q", "-w", *ASSUMED_SYSCTLS))
    commands += _segments(network)
    commands += _veths(network)
    rule_namespaces = {}
    for ns in network.namespaces.values():
        name = linux_name(ns.name)
        commands += _devices(name, ns)
        commands += _addresses(name, ns)
        commands += _routes(name, ns)
        commands += _neighbours(name, ns)
        commands += ipvs_commands(name, ns)  # before sysctl: ip_vs brings net.ipv4.vs.*
        commands.append(in_ns(name, "sysctl", "-q", "-w",
                              *(f"{key}={value}" for key, value in ns.sysctl.items())))
        if _has_rules(ns):
            rule_namespaces[name] = ns.name
            # -m nfacct needs its accounting objects before the rules load (kube-proxy's)
            commands += [in_ns(name, "nfacct", "add", counter)
                         for counter in sorted(ns.netfilter.nfacct)]
            commands.append(in_ns(name, "iptables-restore", stdin=ns.netfilter.save(
                when=iptables_date(network.clock))))
    return Plan(namespaces + segments, commands, rule_namespaces)


def _segments(network: Network) -> list[Command]:
    """A bridge per segment, and a veth from it to each member's device."""
    commands = []
    for segment in network.segments.values():
        name = segment_namespace(segment.name)
        commands += [in_ns(name, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0"),
                     ip(name, "link", "add", SEGMENT_BRIDGE, "type", "bridge"),
                     ip(name, "link", "set", "lo", "up"),
                     ip(name, "link", "set", SEGMENT_BRIDGE, "up")]
        for index, device in enumerate(segment.devices):
            port = f"p{index}"
            commands += [ip(name, "link", "add", port, "type", "veth", "peer", "name",
                            device.name, "netns", linux_name(device.namespace.name)),
                         ip(name, "link", "set", port, "master", SEGMENT_BRIDGE, "up")]
    return commands


def _veths(network: Network) -> list[Command]:
    commands, done = [], set()
    for ns in network.namespaces.values():
        for device in ns.devices.values():
            if not isinstance(device, Veth) or device.peer is None or id(device) in done:
                continue
            peer = device.peer
            done |= {id(device), id(peer)}
            commands.append(ip(linux_name(ns.name), "link", "add", device.name, "type", "veth",
                               "peer", "name", peer.name, "netns",
                               linux_name(peer.namespace.name)))
    return commands


def _devices(name: str, ns: Namespace) -> list[Command]:
    commands = []
    for device in ns.devices.values():
        if isinstance(device, Bridge | Dummy):
            commands.append(ip(name, "link", "add", device.name, "type", device.kind))
        if isinstance(device, Vxlan):
            commands.append(ip(name, "link", "add", *vxlan_args(device)))
    for device in ns.devices.values():
        if isinstance(device, Loopback):
            commands.append(ip(name, "link", "set", device.name, "up"))
            continue
        if not isinstance(device, Veth | Ethernet | Bridge | Dummy | Vxlan):
            raise ValueError(f"{ns.name}: no Linux device for a {device.kind} ({device.name})")
        state = "up" if device.up else "down"
        commands.append(ip(name, "link", "set", device.name, "address", device.mac,
                           "mtu", str(device.mtu), state))
        if device.master is not None:
            commands.append(ip(name, "link", "set", device.name, "master", device.master.name))
            commands.append(ip(name, "link", "set", device.name, "type", "bridge_slave",
                               "hairpin", "on" if device.hairpin else "off"))
    return commands


def vxlan_args(device: Vxlan) -> list[str]:
    """`ip link add` arguments that make the model's VXLAN device."""
    args = [device.name, "type", "vxlan", "id", str(device.vni)]
    if device.local is not None:
        args += ["local", str(device.local)]
    if device.underlay is not None:
        args += ["dev", device.underlay]
    args += ["dstport", str(device.dstport)]
    if not device.learning:
        args.append("nolearning")
    return args


def _neighbours(name: str, ns: Namespace) -> list[Command]:
    """Configured neighbour entries and VXLAN forwarding entries (ARP learns the rest)."""
    commands = [ip(name, "neigh", "replace", str(address), "lladdr", mac, "dev", dev, "nud",
                   "permanent")
                for address, (mac, dev) in ns.neighbours.items()
                if address in ns.permanent_neighbours]
    for device in ns.devices.values():
        if isinstance(device, Vxlan):
            commands += [Command(("bridge", "-n", name, "fdb", "append", mac, "dev",
                                  device.name, "dst", str(remote), "self", "permanent"))
                         for mac, remote in device.fdb.items()]
    return commands


def _addresses(name: str, ns: Namespace) -> list[Command]:
    commands = []
    for address in ns.addresses:
        if address.dev == "lo" and str(address.interface) == "127.0.0.1/8":
            continue  # every namespace is born with it
        argv = ["addr", "add", str(address.interface), "dev", address.dev]
        if address.interface.network.prefixlen < 31:
            argv += ["brd", "+"]
        if address.scope != "global":
            argv += ["scope", address.scope]
        commands.append(ip(name, *argv))
    return commands


def _routes(name: str, ns: Namespace) -> list[Command]:
    """The main table exactly as the model has it: the kernel's own routes are replaced
    too, since a plugin may have deleted one (ptp removes the pod's subnet route)."""
    routes = ns.main.routes()
    direct = [r for r in routes if r.via is None and not r.nexthops]
    return [ip(name, "route", "flush", "table", "main")] + [
        ip(name, "route", "add", *route_args(r)) for r in direct + [
            r for r in routes if r not in direct]]


def route_args(route: Route) -> list[str]:
    """`ip route add` arguments for a model route."""
    args = [] if route.type == "unicast" else [route.type]
    args.append("default" if route.prefix.prefixlen == 0 else str(route.prefix))
    if route.via is not None:
        args += ["via", str(route.via)]
    if route.dev is not None:
        args += ["dev", route.dev]
    args += ["proto", route.proto, "scope", route.scope]
    if route.src is not None:
        args += ["src", str(route.src)]
    if route.metric:
        args += ["metric", str(route.metric)]
    if route.onlink:
        args.append("onlink")
    for hop in route.nexthops:
        args += ["nexthop", "via", str(hop.via), "dev", hop.dev, "weight", str(hop.weight)]
    return args


def _has_rules(ns: Namespace) -> bool:
    return any(chain.rules or not chain.builtin or chain.policy != "ACCEPT"
               for table in ns.netfilter.tables.values() for chain in table.chains.values())
