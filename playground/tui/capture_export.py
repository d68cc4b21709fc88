"""`:export pcap FILE [--all]`: the packet on screen, or every packet in the hop list, as a
pcapng capture; the app says what it wrote in a notice, or returns the error line."""

from __future__ import annotations

from playground.cluster.errors import ClusterError
from playground.pcap_export import write_pcap

USAGE = "export pcap FILE [--all]: name the file (--all: every packet in the hop list)"


def export_pcap(app, args: list[str]) -> str | None:
    every = "--all" in args
    names = [a for a in args if a != "--all"]
    if len(names) != 1 or names[0].startswith("-"):
        return USAGE
    player = app.player
    traces = [t for run in player.runs for t in run.traces] if every else player.traces
    try:
        app.notify(write_pcap(names[0], traces))
    except ClusterError as problem:
        return str(problem)
    return None
