"""Traces written as a pcapng file for Wireshark, atomically (atomic_files), one line back."""

from __future__ import annotations

from playground.atomic_files import write_atomically
from playground.cluster.errors import ClusterError
from playground.net.capture import pcapng
from playground.net.trace import Trace
from playground.timefmt import LAB_EPOCH


def write_pcap(path: str, traces: list[Trace]) -> str:
    """Write the traces' hops to PATH; the line that says what was written."""
    if not traces:
        raise ClusterError(f"{path}: no packet to write (send one first)")
    capture = pcapng(traces, LAB_EPOCH)
    try:
        write_atomically(path, capture.bytes(), keep_backup=False)
    except OSError as error:
        raise ClusterError(f"{path}: cannot write the capture "
                           f"({error.strerror or error})") from None
    frames = sum(len(t.hops) for t in traces)
    return (f"wrote {frames} frames ({len(traces)} packets, a frame per hop) on "
            f"{len(capture.interfaces)} interfaces to {path}")
