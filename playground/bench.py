"""`python -m playground.bench`: what building and tracing cost, one JSON line per size."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort

SIZES = [(3, 10), (10, 100), (50, 1000)]
QUICK_SIZES = [(3, 10)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def build(nodes: int, pods: int) -> Cluster:
    cluster = Cluster()
    await cluster.start()
    for index in range(nodes):
        await cluster.add_node(f"node-{index:04d}")
    for index in range(pods):
        await cluster.add_pod(f"pod-{index:05d}",
                              [Container("web", ports=[ContainerPort(80)])])
    return cluster


async def measure(nodes: int, pods: int, traces: int) -> dict:
    started = time.perf_counter()
    cluster = await build(nodes, pods)
    built = time.perf_counter() - started
    running = cluster.pods()
    first = running[0]
    # the last pod sits on another node whenever there is more than one
    last = running[-1]
    timings = []
    for _ in range(traces):
        began = time.perf_counter()
        trace = cluster.network.send(f"pod/default/{first.name}", last.status.pod_ip, "tcp", 80,
                                     owner="web")
        timings.append(time.perf_counter() - began)
        assert trace.verdict == "delivered", trace.reason
    await cluster.stop()
    return {"figure": "build_and_trace", "nodes": nodes, "pods": pods,
            "build_seconds": round(built, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
            "trace_median_us": round(statistics.median(timings) * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench")
    parser.add_argument("--quick", action="store_true", help="one small size (for CI)")
    args = parser.parse_args()
    for nodes, pods in QUICK_SIZES if args.quick else SIZES:
        result = asyncio.run(measure(nodes, pods, traces=20 if args.quick else 200))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
