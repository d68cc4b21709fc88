"""`k8s-playground`: the app with no arguments, headless commands otherwise."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from pathlib import Path

from playground import reach_cli
from playground.atomic_files import write_atomically
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.dns.show import fields
from playground.cluster.kube_yaml import kind_config, manifests
from playground.cluster.legs import legs, request_fields, unresolved
from playground.cluster.legs import text as legs_text
from playground.cluster.manifests import apply_files
from playground.cluster.tables import nodes_table, pods_table
from playground.cluster.traffic import generate
from playground.commands.dns_tools import TYPES
from playground.commands.table import node_tools
from playground.compare_cli import compare_traces
from playground.flows_cli import add_arguments as flows_arguments
from playground.flows_cli import run_flows
from playground.headless import UsageError, lab_files, starting_lab, trace_request
from playground.http_args import http_header, http_method
from playground.import_cli import import_cluster
from playground.limits import MAX_TRAFFIC_COUNT
from playground.net.netfilter import IptablesError
from playground.net.netns import NetError
from playground.numbers import PORT, SEED, argument
from playground.pcap_export import write_pcap
from playground.proxy.modes import modes_help
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES
from playground.saves import LabFileError, check_readable, is_lab_file, load_lab
from playground.serve_cli import serve
from playground.session.lab import Lab
from playground.shell import Shell
from playground.verify.materialise import plan
from playground.verify.run import verify_lab

EXIT_USAGE = 2
WIDTH = argument(0, 10_000)


class Parser(argparse.ArgumentParser):
    """argparse that reports in one line and exits 2, without the usage dump."""

    def error(self, message: str):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="k8s-playground",
                    description="Learn Kubernetes networking by sending packets through a "
                                "modelled cluster. Without a command, opens the app.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    def lab_options(sub, namespace=True):
        sub.add_argument("--cni", choices=list(CNI_PLUGINS), default="bridge",
                         help="CNI plugin of the lab (default: bridge)")
        sub.add_argument("--seed", type=SEED, default=0, help="random seed of the lab")
        sub.add_argument("--proxy-mode", choices=list(PROXY_MODES), default="iptables",
                         help="how kube-proxy implements Services (default: iptables): "
                              + modes_help())
        sub.add_argument("--lb", choices=list(LB_PROVIDERS), default="cloud",
                         help="who serves LoadBalancer Services (default: cloud): "
                              + ", ".join(f"{name} ({p.summary})"
                                          for name, p in LB_PROVIDERS.items()))
        sub.add_argument("-f", "--filename", action="append", default=[], metavar="FILE",
                         help="start from a lab file, and/or apply Kubernetes YAML manifests "
                              "(repeatable; a lab file brings its own CNI and seed)")
        sub.add_argument("--sysctl", action="append", default=[], metavar="KEY=VALUE",
                         help="set a sysctl on every node, e.g. "
                              "net.bridge.bridge-nf-call-iptables=0 (repeatable)")
        if namespace:
            sub.add_argument("-n", "--namespace",
                             help="namespace of bare pod and Service names (default: default)")

    app = commands.add_parser("app", help="open the app (the default)")
    lab_options(app)

    trace = commands.add_parser("trace", help="send a packet and print its path")
    trace.add_argument("src", help="pod/NAME[:CONTAINER], pod/NS/NAME, node/NAME or IP")
    trace.add_argument("dst", help="pod/NAME[:CONTAINER], pod/NS/NAME, node/NAME or IP")
    trace.add_argument("--port", type=PORT, help="destination port (default: the target's "
                                               "first declared port, else 80)")
    trace.add_argument("--proto", choices=["tcp", "udp", "sctp", "icmp"], default="tcp")
    trace.add_argument("--reply", action="store_true", help="also trace the answer back")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    trace.add_argument("--host", default="", help="HTTP Host a proxy (ingress, Gateway) routes by")
    trace.add_argument("--path", default="/", help="HTTP path a proxy (ingress, Gateway) routes "
                       "by, with a ?query the Gateway's query parameter matches read")
    trace.add_argument("--method", default="GET", type=http_method,
                       help="HTTP method of the request (default GET)")
    trace.add_argument("--header", action="append", default=[], type=http_header,
                       metavar="NAME:VALUE", help="an HTTP request header a Gateway's header "
                       "matches read (repeatable)")
    trace.add_argument("--compare", metavar="CNI[/PROXY_MODE]",
                       help="send the same packet through the lab on this dataplane too and "
                            "print both side by side, e.g. --compare ptp")
    trace.add_argument("--width", type=WIDTH, help="columns of the --compare output (default: "
                                                 "the terminal's; under 120 stacks them)")
    trace.add_argument("--size", type=argument(0, 65535), metavar="BYTES",
                       help="IP length of the packet (default: a bare SYN, datagram or ping)")
    trace.add_argument("--df", action="store_true",
                       help="set Don't Fragment: too big for a link means dropped, not split")
    trace.add_argument("--pcap", metavar="FILE", help="also write every hop as a frame of a "
                       "pcapng capture for Wireshark")
    lab_options(trace)

    traffic = commands.add_parser("traffic", help="send many connections to a Service and "
                                                  "show how they spread")
    traffic.add_argument("src", help="where the connections start")
    traffic.add_argument("dst", help="svc/NAME[:PORT], lb/NAME or an address")
    traffic.add_argument("--count", type=argument(1, MAX_TRAFFIC_COUNT), default=100)
    traffic.add_argument("--port", type=PORT)
    traffic.add_argument("--proto", choices=["tcp", "udp"], default="tcp")
    traffic.add_argument("--pcap", metavar="FILE", help="also write every connection's hops "
                         "to a pcapng capture")
    lab_options(traffic)

    flows = commands.add_parser("flows", help="the lab's packets as a Hubble flow log, as "
                                "`hubble observe` prints it")
    flows_arguments(flows)
    lab_options(flows)

    lookup = commands.add_parser("dns", help="look a name up from a pod or node through the "
                                             "lab's DNS, as dig prints it")
    lookup.add_argument("target", metavar="TARGET", help="pod/NAME or node/NAME")
    lookup.add_argument("name", metavar="NAME")
    lookup.add_argument("type", metavar="TYPE", nargs="?", default="A", type=str.upper,
                        choices=TYPES)
    lookup.add_argument("--search", action="store_true",
                        help="walk the resolver's search list, as dig +search")
    lookup.add_argument("--tcp", action="store_true", help="ask over TCP, as dig +tcp")
    lookup.add_argument("--noedns", action="store_true",
                        help="offer no EDNS buffer (512 bytes over UDP), as dig +noedns")
    lab_options(lookup)

    reach = commands.add_parser("reach", help="the pods x pods truth table of the lab's "
                                              "NetworkPolicies")
    reach_cli.add_arguments(reach)
    lab_options(reach)

    opener = commands.add_parser("open", help="open a lab file in the app")
    opener.add_argument("file", help="a lab file (.k8slab)")

    export = commands.add_parser("export", help="write a lab file out in another form")
    export.add_argument("file", help="a lab file (.k8slab)")
    form = export.add_mutually_exclusive_group(required=True)
    form.add_argument("--yaml", action="store_true",
                      help="Kubernetes YAML for a real kind cluster on stdout, and a kind "
                           "config with the same nodes")
    form.add_argument("--shell", action="store_true",
                      help="a shell script of the ip, sysctl and iptables-restore commands "
                           "that build the lab from network namespaces on a Linux machine")
    export.add_argument("--kind-config", metavar="PATH",
                        help="where --yaml writes the kind config (default: kind-config.yaml "
                             "beside the lab file)")

    importer = commands.add_parser("import", help="rebuild a real cluster as a lab file from "
                                   "`kubectl get nodes,pods,services,endpointslices,"
                                   "networkpolicies,ingresses -A -o yaml`")
    importer.add_argument("files", nargs="+", metavar="FILE", help="kubectl's output: a List "
                          "or objects, YAML or JSON (repeatable)")
    importer.add_argument("-o", "--output", required=True, metavar="LAB.k8slab")
    importer.add_argument("--iptables-save", action="append", default=[], metavar="NODE=FILE",
                          help="a node's own `iptables-save`, compared with the model's for "
                               "that node (repeatable)")

    server = commands.add_parser("serve", help="serve the app to a web browser (textual-serve)")
    server.add_argument("--port", type=PORT, default=8000, help="(default: 8000)")
    server.add_argument("--host", default="127.0.0.1", help="the address to listen on "
                        "(default: 127.0.0.1, this machine only)")
    server.add_argument("file", nargs="?", help="a lab file each browser opens")

    labs = commands.add_parser("labs", help="list the guided labs, or start one in the app")
    labs.add_argument("lesson", nargs="?", metavar="ID", help="the guided lab to start")

    verify = commands.add_parser("verify", help="build the lab from real network namespaces "
                                 "(root), send real packets, compare with the model")
    lab_options(verify, namespace=False)

    show = commands.add_parser("show", help="print a table of the lab in a real tool's format")
    what = show.add_subparsers(dest="what", parser_class=Parser, required=True)
    nodes = what.add_parser("nodes", help="`kubectl get nodes`")
    nodes.add_argument("-o", "--output", choices=["wide"])
    lab_options(nodes, namespace=False)
    pods = what.add_parser("pods", help="`kubectl get pods`")
    pods.add_argument("-o", "--output", choices=["wide"])
    pods.add_argument("-A", "--all-namespaces", action="store_true")
    lab_options(pods)
    for command in node_tools():  # every node tool of the `:` line, on a TARGET
        tool = what.add_parser(command.cli.name, help=command.cli.help)
        command.cli.arguments(tool)
        lab_options(tool)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.command == "labs":
            return asyncio.run(start_lesson(args.lesson)) if args.lesson else list_labs()
        if args.command == "open" or args.command == "app" and lab_files(args.filename):
            return asyncio.run(open_lab(args.file if args.command == "open"
                                        else lab_files(args.filename)[0]))
        if args.command in (None, "app"):
            return run_app(args)
        if args.command == "export":
            return asyncio.run(export_lab(args))
        if args.command == "serve":
            if args.file:
                check_readable(args.file)
            return serve(args.port, args.host, args.file)
        if args.command == "import":
            print("\n".join(asyncio.run(import_cluster(args.files, args.output,
                                                         args.iptables_save))))
            return 0
        if args.command == "flows":
            print("\n".join(asyncio.run(run_flows(args))))
            return 0
        if args.command == "trace" and (args.compare or args.width):
            return asyncio.run(compare_traces(args))
        return asyncio.run(run_command(args))
    except UsageError as error:
        print(f"k8s-playground: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (ClusterError, NetError, IptablesError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug of ours: still one line, never a traceback
        print(f"internal error ({type(error).__name__}): {error}; please report it",
              file=sys.stderr)
        return 1


def run_app(args) -> int:
    from playground.tui.app import PlaygroundApp

    PlaygroundApp(cni=getattr(args, "cni", "bridge"), seed=getattr(args, "seed", 0)).run()
    return 0


def list_labs() -> int:
    from playground.labs.catalogue import LESSONS

    width = max(len(lesson.id) for lesson in LESSONS)
    for lesson in LESSONS:
        print(f"{lesson.id:<{width}}  {lesson.title}: {lesson.summary}")
    print("\nStart one with `k8s-playground labs ID`, or with ctrl+l in the app.")
    return 0


async def start_lesson(lesson_id: str) -> int:
    from playground.labs.catalogue import LESSONS

    lesson = next((x for x in LESSONS if x.id == lesson_id), None)
    if lesson is None:
        raise UsageError(f"labs: no guided lab {lesson_id!r} (`k8s-playground labs` lists them)")
    return await open_lab(None, await lesson.start())


async def open_lab(path: str | None, lab: Lab | None = None) -> int:
    """The app on a lab: a lab file loads inside it, behind a progress bar, so a big lab shows
    its first frame at once. A file that cannot be read at all is one line and exit 2 before
    any screen; one that fails later ends the app with that line and exit 2 too."""
    from playground.tui.app import PlaygroundApp

    if lab is None:
        check_readable(path)
        app = PlaygroundApp(path=path, load=path)
    else:
        app = PlaygroundApp(lab=lab, path=path)
    try:
        await app.run_async()
    finally:
        if app.lab is not None:
            await app.lab.close()
    if app.load_error is not None:
        raise LabFileError(app.load_error)
    return 0


async def export_lab(args) -> int:
    lab = await load_lab(args.file)
    try:
        if args.shell:
            lab.cluster.wake_all()
            print(plan(lab.cluster.network).script(), end="")
            return 0
        config_path = args.kind_config or str(Path(args.file).with_name("kind-config.yaml"))
        text = manifests(lab.cluster)
        try:
            write_atomically(config_path, kind_config(lab.cluster).encode(), keep_backup=False)
        except OSError as error:
            raise ClusterError(f"{config_path}: cannot write the kind config "
                               f"({error.strerror})") from None
        print(text, end="")
        print(f"kind config written to {config_path}: kind create cluster --config "
              f"{config_path}, then kubectl apply -f the YAML", file=sys.stderr)
        return 0
    finally:
        await lab.close()


async def run_command(args) -> int:
    cluster = (await starting_lab(args)).cluster
    try:
        await apply_files(cluster, [f for f in args.filename if not is_lab_file(f)])
        for setting in args.sysctl:
            cluster.set_node_sysctl(setting)
        if args.command == "trace":
            return do_trace(cluster, args)
        if args.command == "dns":
            flags = [flag for flag, given in (("+search", args.search), ("+tcp", args.tcp),
                                              ("+noedns", args.noedns)) if given]
            line = shlex.join(["dig", args.name, args.type, *flags])
            print((await Shell(cluster).run(line, args.target, args.namespace)).output, end="")
            return 0
        if args.command == "verify":
            return verify_lab(cluster)
        if args.command == "reach":
            return reach_cli.run(cluster, args)
        if args.command == "traffic":
            spread = generate(cluster, args.src, args.dst, args.count, args.proto, args.port,
                              args.namespace, keep=bool(args.pcap))
            print(spread.text(), end="")
            if args.pcap:
                print(write_pcap(args.pcap, spread.traces), file=sys.stderr)
            return 0
        return await do_show(cluster, args)
    finally:
        await cluster.stop()


def do_trace(cluster: Cluster, args) -> int:
    sent = legs(cluster, trace_request(args))
    if args.pcap:
        print(write_pcap(args.pcap, [leg.trace for leg in sent]), file=sys.stderr)
    proxied = [leg for leg in sent if leg.role in ("proxied", "answer")]
    resolved = [leg for leg in sent if "dns" in leg.role]
    connection = [leg for leg in sent if leg.role == "packet"]
    if args.json:
        data = connection[0].trace.to_dict() if connection else {}
        if resolved:
            data["dns"] = [{"role": leg.role, "title": leg.title, "why": leg.why,
                            "message": fields(leg.message), "trace": leg.trace.to_dict()}
                           for leg in resolved]
        for leg in sent:
            if leg in resolved or leg.role == "packet":
                continue
            if leg.role == "reply":
                data["reply"] = leg.trace.to_dict()
            elif leg.proxy == "gateway":   # a Gateway's proxy: its route decision
                data["gateway"] = {"title": leg.title, "why": leg.why, "role": leg.role,
                                   "backend": leg.service, "trace": leg.trace.to_dict()}
            elif leg.service:   # the ingress controller's, to a Service
                data["proxied"] = {"why": leg.why, "service": leg.service,
                                   "trace": leg.trace.to_dict()}
            else:   # a load balancer's proxy, to a node
                data["load_balancer_proxy"] = {"title": leg.title, "why": leg.why,
                                               "trace": leg.trace.to_dict()}
        if args.host or any(leg.proxy == "gateway" for leg in proxied):
            data["request"] = request_fields(trace_request(args))
        print(json.dumps(data, indent=2))
        return 0 if connection else 1
    if resolved:
        print(legs_text([leg for leg in sent if leg not in proxied]), end="")
        if not connection:
            print(unresolved(args.dst, sent), file=sys.stderr)
            return 1
    else:
        print("\n".join(leg.trace.text() for leg in sent if leg not in proxied), end="")
    for leg in proxied:
        if leg.proxy == "ingress":
            print(f"\nthe ingress controller routes Host {args.host or '(none)'} {args.path} "
                  f"by {leg.why} and opens its own connection to {leg.service}:\n")
        elif leg.proxy == "gateway":
            print(f"\n{leg.title}\n  ({leg.why})\n")
        else:
            print(f"\n{leg.title}\n  ({leg.why})\n")
        print(leg.trace.text(), end="")
    return 0


async def do_show(cluster: Cluster, args) -> int:
    if args.what == "nodes":
        print(nodes_table(cluster, args.output == "wide"), end="")
        return 0
    if args.what == "pods":
        namespace = None if args.all_namespaces else args.namespace or "default"
        print(pods_table(cluster, namespace, args.output == "wide"), end="")
        return 0
    command = next(c for c in node_tools() if c.cli.name == args.what)
    line = shlex.join([*command.words, *command.cli.words(args)])
    output = (await Shell(cluster).run(line, args.target, args.namespace)).output
    lines = output.splitlines(keepends=True)
    cut = len(lines) - command.cli.stderr_lines
    print("".join(lines[:cut]), end="")
    if command.cli.stderr_lines:
        print("".join(lines[cut:]), end="", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
