"""Packets on the `:` line: trace one, answer it, send many, compare dataplanes."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.dataplane import choices as dataplanes
from playground.cluster.legs import TraceRequest, legs, main_leg, text, unresolved
from playground.cluster.traffic import generate
from playground.commands.base import Call, Command, ShellError, ShellResult, parser, positional
from playground.commands.places import places
from playground.http_args import http_header, http_method
from playground.limits import MAX_TRAFFIC_COUNT
from playground.numbers import PORT, argument

TRACE_FLAGS = ("--port", "--proto", "tcp", "udp", "sctp", "icmp", "--host", "--path",
               "--method", "--header", "--size", "--df")
TRAFFIC_FLAGS = ("--count", "--port")


def trace(shell, call: Call) -> ShellResult:
    p = parser("trace")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--port", type=PORT)
    p.add_argument("--proto", choices=["tcp", "udp", "sctp", "icmp"], default="tcp")
    p.add_argument("--host", default="")
    p.add_argument("--path", default="/")
    p.add_argument("--method", default="GET", type=http_method)
    p.add_argument("--header", action="append", default=[], type=http_header)
    p.add_argument("--size", type=argument(0, 65535))
    p.add_argument("--df", action="store_true")
    p.add_argument("-n", "--namespace")
    args = p.parse_args(call.args)
    sent = legs(shell.cluster, TraceRequest(args.src, args.dst, args.proto, args.port,
                                            args.namespace, args.size, args.df,
                                            host=args.host, path=args.path,
                                            method=args.method, headers=tuple(args.header)))
    main = main_leg(sent).trace
    shell.last = main
    shown = text(sent) if len(sent) > 1 and sent[0].role != "packet" else main.text()
    if not any(leg.role == "packet" for leg in sent):
        shown += unresolved(args.dst, sent) + "\n"
    return ShellResult(shown, trace=main, traces=[leg.trace for leg in sent], legs=sent)


def reply(shell, call: Call) -> ShellResult:
    if call.args:
        raise ShellError("reply takes no arguments: it answers the last trace")
    if shell.last is None:
        raise ShellError("nothing to reply to: trace a packet first")
    if shell.last.verdict != "delivered":
        raise ShellError(f"the last packet was {shell.last.verdict}: there is no reply")
    answer = shell.cluster.network.reply(shell.last)
    return ShellResult(answer.text(), trace=answer, traces=[answer])


def traffic(shell, call: Call) -> ShellResult:
    p = parser("traffic")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--count", type=argument(1, MAX_TRAFFIC_COUNT), default=100)
    p.add_argument("--port", type=PORT)
    p.add_argument("-n", "--namespace")
    args = p.parse_args(call.args)
    spread = generate(shell.cluster, args.src, args.dst, args.count, port=args.port,
                      namespace=args.namespace)
    return ShellResult(spread.text())


def places_then(*flags: str):
    def complete(cluster: Cluster, args: list[str]) -> list[str]:
        return [*places(cluster), *flags]
    return complete


TITLE = "Packets"
COMMANDS = (
    Command("trace", "SRC DST [--port N] [--proto tcp|udp|sctp|icmp] [--host H] "
            "[--path P[?QUERY]] [--method M] [--header NAME:VALUE]... [--size BYTES] [--df]",
            "send a packet and step through every hop", trace,
            replayed=True, complete=places_then(*TRACE_FLAGS)),
    Command("reply", "", "trace the answer to the last packet", reply, replayed=True),
    Command("traffic", "SRC svc/NAME [--count N]", "many connections, counted per endpoint",
            traffic, replayed=True, complete=places_then(*TRAFFIC_FLAGS)),
    Command("export pcap", "FILE [--all]", "the packet on screen (--all: every packet in the "
            "hop list) as a pcapng capture for Wireshark, a frame per hop", None),
    Command("compare", "CNI[/PROXY_MODE]", "the packet on screen through a copy of the lab "
            "on that dataplane too, side by side", None,
            complete=positional(lambda cluster, args: dataplanes())),
)
