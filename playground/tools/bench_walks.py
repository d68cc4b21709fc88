"""The bench's rules-walked figures: how many rules one trace walks to its DNAT, with 10 and
with 10,000 Services, in kube-proxy's iptables mode and in its nftables mode.

The lab is the scale lesson's (service-crowd: 10 Services, then saves/service-crowd.yaml's
crowd sorted in front of svc/web). The nftables side is the same lab rebuilt on
bridge/nftables (as `compare bridge/nftables` rebuilds it), so both modes see the same
objects. In iptables mode the walk grows by one rule per Service listed before web; in
nftables mode @service-ips finds it in one lookup.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from playground.cluster.dataplane import Dataplane
from playground.cluster.legs import send
from playground.cluster.manifests import apply_files
from playground.dataplanes import clone_lab
from playground.labs.checks import nat_walk
from playground.labs.scenarios import BY_ID, crowd_manifest

NFTABLES = Dataplane("bridge", "nftables")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def walk_line(cluster, mode: str) -> str:
    """One traced packet, pod/client to svc/web, as a bench JSON line (every machine built
    first, so the seconds are the trace's own)."""
    cluster.wake_all()
    began = time.perf_counter()
    trace = send(cluster, "pod/client", "svc/web")
    seconds = time.perf_counter() - began
    walked = nat_walk(trace)
    if trace.verdict != "delivered" or walked is None:
        raise RuntimeError(f"the rules-walked trace was not DNATed and delivered: {trace.reason}")
    return json.dumps({"figure": "rules_walked", "proxy_mode": mode,
                       "nodes": len(cluster.node_ips), "pods": cluster.api.count("Pod"),
                       "services": cluster.api.count("Service"), "seconds": round(seconds, 6),
                       "peak_rss_mb": round(peak_mb(), 1), "rules_walked": walked})


async def rules_walked(counts: tuple[int, ...]) -> list[str]:
    """The figure at each Service count (the first must be the lab's own 10)."""
    lab = await BY_ID["service-crowd"].build(with_flow=False)
    lines = []
    try:
        for count in counts:
            more = count - len(lab.cluster.services())
            if more > 0:
                with tempfile.TemporaryDirectory() as folder:
                    crowd = Path(folder) / "crowd.yaml"
                    crowd.write_text(crowd_manifest(more))
                    await apply_files(lab.cluster, [str(crowd)])
            lines.append(walk_line(lab.cluster, "iptables"))
            copy = await clone_lab(lab, NFTABLES)
            try:
                lines.append(walk_line(copy.cluster, "nftables"))
            finally:
                await copy.close()
    finally:
        await lab.close()
    return lines
