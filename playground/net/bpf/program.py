"""Programs, their verdicts, and where they are attached (a cgroup's socket hooks, a
device's tc ingress and egress)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playground.net.link import Device
    from playground.net.netns import Namespace
    from playground.net.packet import Packet

# What a program may answer: TC_ACT_OK, TC_ACT_SHOT, bpf_redirect(), or for a socket hook
# "reject": the system call fails with `errno`.
ACTIONS = ("pass", "drop", "redirect", "reject")
SOCKET_HOOKS = ("connect4", "sendmsg4", "recvmsg4", "getpeername4")
TC_DIRECTIONS = ("ingress", "egress")


@dataclass(frozen=True, slots=True)
class Verdict:
    action: str
    packet: Packet  # the packet as the program leaves it (rewritten or not)
    detail: str  # one sentence: what the program did and why
    entry: str | None = None  # the map entry that decided, as the map dump prints it
    redirect: str | None = None  # the device a redirect transmits on
    dst_mac: str | None = None  # the MAC a redirect writes (the program owns L2 then)
    errno: str | None = None  # a failed socket call
    answer: Packet | None = None  # a packet the program built and sends back (ICMP)
    tunnel: IPv4Address | None = None  # bpf_skb_set_tunnel_key: the remote tunnel endpoint
    tunnel_id: int | None = None  # ... and the key's id, which becomes the VXLAN VNI
    mark: int | None = None  # a new skb->mark the program wrote
    drop_reason: str | None = None  # a drop's reason, as `cilium monitor` and Hubble name it
    src_identity: int | None = None  # the security identities a policy verdict weighed
    dst_identity: int | None = None
    policy_verdict: str | None = None  # a new flow's policy verdict: "L3-L4 INGRESS ALLOWED"


@dataclass(slots=True)
class TcContext:
    ns: Namespace
    dev: Device
    direction: str
    packet: Packet
    src_mac: str | None
    now: float
    mark: int = 0  # skb->mark as it arrives
    tunnel_id: int | None = None  # the tunnel key a collect-metadata VXLAN device set


@dataclass(slots=True)
class SockContext:
    ns: Namespace
    hook: str
    packet: Packet  # the first packet the call would send, or the one being received
    cookie: int
    now: float
    peer: tuple[IPv4Address, int] | None = None  # getpeername/recvmsg: the socket's peer


@dataclass(eq=False)
class Program:
    """A loaded program: `run` is its logic, reading and writing the maps it closes over."""

    name: str
    section: str
    run: Callable[..., Verdict] = field(repr=False)
    prog_id: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} ({self.section})"


@dataclass(eq=False)
class Cgroup:
    """A cgroup v2 directory: programs attached here see every socket of its processes."""

    path: str
    programs: dict[str, Program] = field(default_factory=dict)

    def attach(self, hook: str, program: Program) -> None:
        if hook not in SOCKET_HOOKS:
            raise ValueError(f"cgroup hook {hook!r} is not one of {SOCKET_HOOKS}")
        self.programs[hook] = program


def attach_tc(device: Device, direction: str, program: Program) -> None:
    if direction not in TC_DIRECTIONS:
        raise ValueError(f"tc direction {direction!r} is not ingress or egress")
    device.tc[direction] = program


def listing(ns: Namespace) -> str:
    """Attached programs as `bpftool net show` and `bpftool cgroup tree` print them."""
    lines = ["xdp:", "", "tc:"]
    for index, device in enumerate(ns.devices.values(), start=1):
        for direction in TC_DIRECTIONS:
            program = device.tc.get(direction)
            if program is not None:
                lines.append(f"{device.name}({index}) tcx/{direction} {program.name} "
                             f"prog_id {program.prog_id}")
    lines += ["", "flow_dissector:", "", "netfilter:", ""]
    if ns.cgroup is not None:
        lines += ["CgroupPath", "ID       AttachType      AttachFlags     Name           ",
                  ns.cgroup.path]
        for hook, program in ns.cgroup.programs.items():
            lines.append(f"    {program.prog_id:<8} {hook:<15} {'':<15} {program.name}")
    return "\n".join(lines) + "\n"
