"""One hop explained: why it happened, the packet before and after, what matched."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from playground.net.packet import Packet
from playground.net.trace import Hop

CHANGED = "bold black on magenta"


def _parts(packet: Packet) -> list[tuple[str, str]]:
    """The packet as labelled pieces, so the pieces NAT or forwarding changed can be lit."""
    if packet.proto == "icmp":
        parts = [("", f"{packet.src}"), (" → ", f"{packet.dst}"),
                 ("  icmp ", f"type {packet.icmp_type} code {packet.icmp_code}")]
        if packet.mtu:  # "fragmentation needed" says what fits
            parts.append(("  mtu ", str(packet.mtu)))
    else:
        parts = [("", f"{packet.src}"), (":", f"{packet.sport}"), (" → ", f"{packet.dst}"),
                 (":", f"{packet.dport}"), (f"  {packet.proto} ", packet.flags or "-")]
    return [*parts, ("  ttl ", str(packet.ttl))]


def packet_lines(before: Packet, after: Packet) -> Text:
    """Before and after on one line each; a piece that changed is lit on the after line."""
    text = Text()
    old, new = _parts(before), _parts(after)
    text.append("before ", "dim")
    for glue, value in old:
        text.append(glue, "dim")
        text.append(value)
    text.append("\nafter  ", "dim")
    if len(new) != len(old):  # another kind of packet altogether
        old = [("", "")] * len(new)
    for (glue, value), (_, was) in zip(new, old, strict=True):
        text.append(glue, "dim")
        text.append(value, CHANGED if value != was else "")
    return text


def inner_line(outer: Packet) -> Text:
    """The packet an outer header carries, labelled with its tunnel."""
    text = Text(f"VXLAN vni {outer.vni} ", "dim")
    for glue, value in _parts(outer.payload):
        text.append(glue, "dim")
        text.append(value)
    return text


class HopDetail(Static):
    """Inside a bordered pane, whose title names the hop: its number, place and event,
    after the pane's own label (`hop`, or the dataplane it shows)."""

    hop: Hop | None = None

    def __init__(self, label: str = "hop", **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label

    def _title(self, title: str) -> None:
        if self.parent is not None:
            self.parent.border_title = title

    def show(self, hop: Hop | None, position: str = "", empty: str = "") -> None:
        """A hop, or with none the text `empty` (by default, how to send a packet)."""
        self.hop = hop
        if hop is None:
            self._title(self.label)
            self.update(Text(empty or "No trace yet: press s to send a packet, or : and "
                             "type\ntrace pod/client svc/web", "dim"))
            return
        self._title(f"{self.label} {position} · {hop.where} · {hop.event}")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("why", hop.detail)
        grid.add_row("packet", packet_lines(hop.packet_before, hop.packet_after))
        outer = hop.packet_after if hop.packet_after.payload else hop.packet_before
        if outer.payload is not None:  # a tunnel's packet: the one it carries
            grid.add_row("inside", inner_line(outer))
        if hop.rule:  # an IPVS hop's rule is its connection entry, as ipvsadm -Lnc prints it
            grid.add_row("ipvs conn" if hop.event == "ipvs" else "rule",
                         Text(hop.rule, "bold yellow"))
        if hop.rule and hop.table:
            grid.add_row("chain", f"{hop.table} / {hop.chain}  ({hop.rules_walked} rules "
                                  "walked)")
        if hop.route:
            grid.add_row("route", hop.route)
        if hop.dev_in or hop.dev_out:
            grid.add_row("devices", " → ".join(d for d in (hop.dev_in, hop.dev_out) if d))
        if hop.conntrack:
            grid.add_row("conntrack", hop.conntrack)
        if hop.program:
            grid.add_row("program", Text(hop.program, "bold yellow"))
        if hop.map_entry:
            grid.add_row("map", hop.map_entry)
        self.update(grid)
