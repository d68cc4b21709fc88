"""`python -m playground.tools.bench`: what the model costs, one JSON line per figure and size.

Each size is built the way a user would build it (nodes, then a Deployment and a Service
per Service slot), then every figure in FIGURES runs against it in order. A figure is one
async function taking the Bench and returning its seconds (and any extra fields), so a new
one (an app figure, say) is one function added to FIGURES.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from playground.cluster.cluster import Cluster
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab
from playground.tools.bench_walks import rules_walked

BENCH_CIDR = "10.128.0.0/9"  # room for 32,768 nodes of /24


@dataclass(frozen=True)
class Size:
    nodes: int
    pods: int
    services: int


BASE = Size(3, 30, 10)   # the small lab trace_growth divides by
ENVELOPE = Size(5000, 150_000, 10_000)
LADDER = [BASE, Size(50, 1500, 100), Size(200, 6000, 400), Size(1000, 30_000, 2000)]
QUICK = [BASE, Size(6, 60, 20)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Bench:
    """One built cluster and what the figures learn about it as they go."""

    size: Size
    cluster: Cluster | None
    traces: int
    folder: Path
    base_trace: float | None = None
    found: dict[str, float] = field(default_factory=dict)
    proxy_mode: str = "iptables"

    @property
    def lab_path(self) -> Path:
        return self.folder / f"bench-{self.size.nodes}.k8slab"


async def build(size: Size, proxy_mode: str = "iptables") -> Cluster:
    """Nodes, then per Service a Deployment of pods/services replicas and its Service, then a
    server pinned to the last node and a client pinned to the first one for the traces."""
    cluster = Cluster(cluster_cidr=BENCH_CIDR, proxy_mode=proxy_mode)
    await cluster.start()
    for index in range(size.nodes):
        await cluster.add_node(f"node-{index:05d}")
    web = [Container("web", "nginx", [ContainerPort(80)])]
    replicas, extra = divmod(size.pods - 2, size.services)
    for index in range(size.services):
        name = f"svc-{index:05d}"
        await cluster.add_deployment(name, web, replicas=replicas + (index < extra))
        await cluster.add_service(name, [ServicePort(80, 80)], selector={"app": name})
    last, first = f"node-{size.nodes - 1:05d}", "node-00000"
    await cluster.add_pod("bench-server", web, labels={"app": "bench-server"}, node_name=last)
    await cluster.add_service("bench-server", [ServicePort(80, 80)],
                              selector={"app": "bench-server"})
    await cluster.add_pod("bench-client", [Container("client", "curl")], node_name=first)
    return cluster


def trace_once(cluster: Cluster, cluster_ip: str) -> float:
    began = time.perf_counter()
    trace = cluster.network.send("pod/default/bench-client", cluster_ip, "tcp", 80)
    elapsed = time.perf_counter() - began
    if trace.verdict != "delivered" or trace.delivered_to.namespace != \
            "pod/default/bench-server":
        raise RuntimeError(f"the bench trace was not delivered to the server: {trace.reason}")
    return elapsed


async def figure_trace(bench: Bench) -> dict:
    """pod -> ClusterIP -> pod on another node, the median of many new connections."""
    cluster_ip = bench.cluster.find_service("bench-server").spec.cluster_ip
    median = statistics.median(trace_once(bench.cluster, cluster_ip)
                               for _ in range(bench.traces))
    bench.found["trace"] = median
    return {"seconds": median}


async def figure_trace_growth(bench: Bench) -> dict | None:
    if bench.base_trace is None or bench.size == BASE:
        return None
    return {"seconds": bench.found["trace"], "ratio": bench.found["trace"] / bench.base_trace}


async def figure_scale_settle(bench: Bench) -> dict:
    """One more replica of one Deployment until every node's dataplane has settled."""
    deployment = bench.cluster.deployments_list()[0]
    began = time.perf_counter()
    await bench.cluster.scale(deployment.name, deployment.replicas + 1)
    return {"seconds": time.perf_counter() - began}


# per proxy mode, the listing of one node's kube-proxy rules and a word it must show
SHOW_RULES = {"iptables": ("show_iptables", "iptables-save", "KUBE-SERVICES"),
              "nftables": ("show_nft", "nft list ruleset", "table ip kube-proxy")}


async def figure_show_rules(bench: Bench) -> dict:
    """`iptables-save` (or `nft list ruleset`) on one node, as the shell and the app's node
    view ask for it."""
    figure, command, expected = SHOW_RULES[bench.proxy_mode]
    lab = Lab(bench.cluster)
    began = time.perf_counter()
    result = await lab.run(command, "node/node-00000")
    elapsed = time.perf_counter() - began
    if expected not in result.output:
        raise RuntimeError(f"{command} on the node shows no kube-proxy rules")
    return {"figure": figure, "seconds": elapsed, "lines": result.output.count("\n")}


async def figure_save(bench: Bench) -> dict:
    began = time.perf_counter()
    await save_lab(Lab(bench.cluster), bench.lab_path, keep_backup=False)
    return {"seconds": time.perf_counter() - began, "bytes": bench.lab_path.stat().st_size}


async def figure_load(bench: Bench) -> dict:
    """Loading into a fresh process state: the built cluster is let go first, so the peak
    RSS is the loaded lab's (the process peak never goes down, so it is at least the
    build's)."""
    await bench.cluster.stop()
    bench.cluster = None
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    lab = await load_lab(bench.lab_path)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    bench.cluster = lab.cluster
    return {"seconds": elapsed, "cpu_seconds": cpu}   # not the letting go before it


async def figure_load_trace(bench: Bench) -> dict:
    """The first trace once loaded: it builds the two sleeping nodes it crosses (the load
    leaves every node's machine to be built when first needed)."""
    cluster_ip = bench.cluster.find_service("bench-server").spec.cluster_ip
    asleep = len(bench.cluster.sleeping)
    seconds = trace_once(bench.cluster, cluster_ip)
    return {"seconds": seconds, "woken": asleep - len(bench.cluster.sleeping),
            "again": trace_once(bench.cluster, cluster_ip)}


async def figure_ui_first_frame(bench: Bench) -> dict:
    """The app opening the saved lab: its first frame (a progress bar while it loads)."""
    from playground.tools.bench_ui import measure_ui  # the app only for the app's figures

    first, key = await measure_ui(str(bench.lab_path))
    bench.found["ui_key"] = key["seconds"]
    return {"seconds": first["seconds"]}


async def figure_ui_key(bench: Bench) -> dict:
    """Once loaded, a key press to the next frame (the app's CPU time, median)."""
    return {"seconds": bench.found["ui_key"]}


Figure = Callable[[Bench], Awaitable[dict | None]]
FIGURES: list[tuple[str, Figure]] = [
    ("trace", figure_trace), ("trace_growth", figure_trace_growth),
    ("scale_settle", figure_scale_settle), ("show_iptables", figure_show_rules),
    ("save", figure_save), ("load", figure_load), ("load_trace", figure_load_trace),
    ("ui_first_frame", figure_ui_first_frame), ("ui_key", figure_ui_key),
]


def line(figure: str, size: Size, cluster: Cluster, seconds: float, **extra) -> str:
    counts = {"nodes": len(cluster.node_ips), "pods": cluster.api.count("Pod"),
              "services": cluster.api.count("Service")}
    record = {"figure": figure, **counts, "seconds": round(seconds, 6),
              "peak_rss_mb": round(peak_rss_mb(), 1)}
    record.update({k: round(v, 6) if isinstance(v, float) else v for k, v in extra.items()})
    return json.dumps(record)


async def run_size(size: Size, traces: int, folder: Path, base_trace: float | None,
                   emit: Callable[[str], None], proxy_mode: str = "iptables") -> float:
    """Build one size, emit its figures; returns its trace median for trace_growth."""
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    cluster = await build(size, proxy_mode)
    emit(line("build", size, cluster, time.perf_counter() - began,
              cpu_seconds=time.process_time() - cpu))
    bench = Bench(size, cluster, traces, folder, base_trace, proxy_mode=proxy_mode)
    del cluster   # the figures hold it through `bench` (load swaps it for the loaded one)
    try:
        for name, figure in FIGURES:
            cpu = time.process_time()
            result = await figure(bench)
            if result is not None:
                seconds = result.pop("seconds")
                name = result.pop("figure", name)   # a figure may name itself per mode
                # on a shared machine the CPU time says what the wall clock cannot
                result.setdefault("cpu_seconds", time.process_time() - cpu)
                emit(line(name, size, bench.cluster, seconds, **result))
    finally:
        await bench.cluster.stop()
    return bench.found["trace"]


WALKS = (10, 10_000)   # Service counts of the rules_walked figures
QUICK_WALKS = (10, 30)


async def run(sizes: list[Size], traces: int, emit: Callable[[str], None] = print,
              walks: tuple[int, ...] = WALKS, proxy_mode: str = "iptables") -> None:
    with tempfile.TemporaryDirectory(prefix="k8s-playground-bench-") as folder:
        base_trace = None
        if BASE not in sizes:   # trace_growth needs the small lab's figure first
            sizes = [BASE, *sizes]
        for size in sizes:
            median = await run_size(size, traces, Path(folder), base_trace, emit, proxy_mode)
            if size == BASE:
                base_trace = median
    for text in await rules_walked(walks):
        emit(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.tools.bench",
                                     description="Measure building, tracing, scaling, "
                                     "iptables-save, save and load; one JSON line each.")
    parser.add_argument("--quick", action="store_true", help="two tiny sizes (for CI)")
    parser.add_argument("--size", choices=("ladder", "envelope"), default="ladder",
                        help="the ladder of sizes (default) or the full 5,000-node envelope")
    parser.add_argument("--traces", type=int, default=None,
                        help="traces per median (default 1000, 50 with --quick)")
    parser.add_argument("--proxy-mode", choices=("iptables", "nftables"), default="iptables",
                        help="kube-proxy's mode in every size built (default iptables)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else [ENVELOPE] if args.size == "envelope" else LADDER
    traces = args.traces or (50 if args.quick else 1000)
    asyncio.run(run(sizes, traces, lambda text: print(text, flush=True),
                    QUICK_WALKS if args.quick else WALKS, args.proxy_mode))


if __name__ == "__main__":
    main()
