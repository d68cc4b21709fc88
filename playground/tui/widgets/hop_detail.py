"""One hop explained: why it happened, the packet before and after, what matched."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from playground.net.packet import Packet
from playground.net.trace import Hop

FIELDS = ("src", "sport", "dst", "dport", "ttl", "flags")


def packet_table(before: Packet, after: Packet) -> Table:
    """Both packets field by field; a field NAT or forwarding changed is lit."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    table.add_column()
    table.add_row("", Text("before", "bold"), Text("after", "bold"))
    for name in FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if before.proto == "icmp" and name in ("sport", "dport", "flags"):
            continue
        style = "bold black on magenta" if old != new else ""
        table.add_row(name, str(old), Text(str(new), style))
    if before.proto == "icmp":
        table.add_row("icmp", f"type {before.icmp_type} code {before.icmp_code}",
                      f"type {after.icmp_type} code {after.icmp_code}")
    return table


class HopDetail(Static):
    hop: Hop | None = None

    def show(self, hop: Hop | None, position: str = "") -> None:
        self.hop = hop
        if hop is None:
            self.update(Text("No trace yet: press s to send a packet, or : and type\n"
                             "trace pod/client svc/web", "dim"))
            return
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("hop", f"{position}  {hop.where}  [{hop.event}]")
        grid.add_row("why", hop.detail)
        if hop.dev_in or hop.dev_out:
            grid.add_row("devices", " → ".join(d for d in (hop.dev_in, hop.dev_out) if d))
        if hop.route:
            grid.add_row("route", hop.route)
        if hop.rule:
            grid.add_row("rule", Text(hop.rule, "bold yellow"))
            grid.add_row("chain", f"{hop.table} / {hop.chain}  ({hop.rules_walked} rules "
                                  "walked)")
        if hop.conntrack:
            grid.add_row("conntrack", hop.conntrack)
        grid.add_row("packet", packet_table(hop.packet_before, hop.packet_after))
        self.update(grid)
