"""`k8s-playground flows`: the lab's packets as `hubble observe` prints them."""

from __future__ import annotations

import shlex

from playground.cluster.flows.filters import FlowFilter, duration
from playground.cluster.flows.hubble import compact, json_line
from playground.cluster.flows.log import flows_of, journal_traces
from playground.cluster.manifests import apply_files
from playground.headless import starting_lab
from playground.saves import is_lab_file


def add_arguments(sub) -> None:
    sub.add_argument("--pod", help="flows from or to this pod ([NAMESPACE/]NAME prefix)")
    sub.add_argument("--verdict", help="FORWARDED, DROPPED or TRANSLATED")
    sub.add_argument("--to-service", metavar="[NAMESPACE/]NAME",
                     help="flows whose destination is this Service's address")
    sub.add_argument("--since", metavar="DURATION",
                     help="only flows of the last DURATION of lab time (30s, 5m, 1h)")
    sub.add_argument("-o", "--output", choices=["compact", "json"], default="compact")
    sub.add_argument("--print-node-name", action="store_true",
                     help="the observing node in each compact line, as hubble's flag")
    sub.add_argument("--send", action="append", default=[], metavar="'SRC DST [OPTIONS]'",
                     help="send this packet first, as `trace` on the app's line does "
                          "(repeatable)")


async def run_flows(args) -> list[str]:
    """The lines to print; ValueError or ClusterError for bad input."""
    since = duration(args.since) if args.since else None
    lab = await starting_lab(args)
    try:
        cluster = lab.cluster
        await apply_files(cluster, [f for f in args.filename if not is_lab_file(f)])
        for line in args.send:
            try:
                await lab.run(shlex.join(["trace", *shlex.split(line)]))
            except ValueError as error:   # the shell's own line, with what was asked
                raise ValueError(f"--send {line!r}: {error}") from None
        chosen = FlowFilter(args.pod, args.namespace, args.verdict, args.to_service, since,
                            cluster.network.clock)
        flows = [f for f in flows_of(cluster, journal_traces(lab.history)) if chosen.matches(f)]
        if args.output == "json":
            return [json_line(f) for f in flows]
        return [compact(f, args.print_node_name) for f in flows]
    finally:
        await lab.close()
