"""Traces as a capture: every hop a frame on the interface it crossed, named
NAMESPACE:DEVICE (`node/kind-worker:cni0`), with the hop's explanation as its comment.

A hop is shown as the packet it left with (the addresses after every NAT), framed with the
MACs it crossed its device with; an encapsulation is shown on the tunnel device as the
inner frame that went in, its outer packet on the underlay's hops. A hop that acted on the
packet before any frame existed (routing and OUTPUT rules of a sender) takes the MACs of
the frame the packet left that device in.
"""

from __future__ import annotations

from playground.net.frames import ethernet, ipv4
from playground.net.pcapng import PcapngWriter
from playground.net.trace import Hop, Trace

APPLICATION = "k8s-playground (frames computed by its model of the Linux network stack)"


def _device(hops: list[Hop], at: int) -> str:
    """The device a hop's packet crossed: where it left for, else where it came in, else
    the nearest device of the same namespace in the trace."""
    hop = hops[at]
    if hop.dev_out or hop.dev_in:
        return hop.dev_out or hop.dev_in
    order = list(range(at - 1, -1, -1)) + list(range(at + 1, len(hops)))
    for other in (hops[i] for i in order):
        if other.where == hop.where and (other.dev_out or other.dev_in):
            return other.dev_out or other.dev_in
    return "any"


def _macs(hops: list[Hop], devices: list[str], at: int) -> tuple[str | None, str | None]:
    """(destination, source) MACs: the hop's own, else those of the nearest frame on the same
    device, the next one first (a packet being sent is framed when it leaves)."""
    def framed(i: int) -> bool:
        """Whether the hop's MACs are those of a frame on the device it is shown on (a
        forwarded packet still carries the frame it came in with: not its way out's)."""
        hop = hops[i]
        crossing = hop.dev_in and hop.dev_out and hop.dev_in != hop.dev_out and \
            hop.event != "bridge"
        return hop.dst_mac is not None and hop.event != "decapsulate" and not crossing

    if framed(at):
        return hops[at].dst_mac, hops[at].src_mac
    order = list(range(at + 1, len(hops))) + list(range(at - 1, -1, -1))
    for i in order:
        if hops[i].where == hops[at].where and devices[i] == devices[at] and framed(i):
            return hops[i].dst_mac, hops[i].src_mac
    return None, None


def _comment(label: str, hop: Hop) -> str:
    text = f"{label}hop {hop.index} {hop.where} {hop.event}: {hop.detail}"
    if hop.rule:
        text += f"\nrule: {hop.rule}"
    if hop.route:
        text += f"\nroute: {hop.route}"
    return text


def pcapng(traces: list[Trace], epoch: float) -> PcapngWriter:
    """The traces' hops as one pcapng file (its .bytes()); `epoch` is the Unix time of lab
    time zero."""
    writer = PcapngWriter(APPLICATION)
    for number, trace in enumerate(traces, start=1):
        hops = trace.hops
        devices = [_device(hops, i) for i in range(len(hops))]
        inner_macs = {h.packet_after.payload: (h.dst_mac, h.src_mac) for h in hops
                      if h.event == "encapsulate" and h.packet_after.payload is not None}
        label = f"packet {number}, " if len(traces) > 1 else ""
        for at, hop in enumerate(hops):
            shown = hop.packet_before if hop.event == "encapsulate" else hop.packet_after
            dst_mac, src_mac = _macs(hops, devices, at)
            inner = inner_macs.get(shown.payload, (None, None)) if shown.payload else (None,
                                                                                      None)
            frame = ethernet(dst_mac, src_mac, ipv4(shown, inner))
            interface = writer.interface(f"{hop.where}:{devices[at]}",
                                         f"device {devices[at]} in namespace {hop.where}")
            writer.packet(interface, epoch + hop.time, frame, _comment(label, hop))
    return writer
