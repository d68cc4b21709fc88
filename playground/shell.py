"""The `:` command line: the kubectl commands a learner knows, node tools, and traces.

It drives the same Cluster actions as the CLI and tests; the app only shows the result.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.cluster.tables import (
    deployments_table,
    ingresses_table,
    nodes_table,
    pods_table,
    services_table,
)
from playground.cluster.targets import follow_ingress, resolve, send
from playground.cluster.traffic import generate
from playground.net.iproute import ip_route_change
from playground.net.netns import NetError
from playground.net.route import RouteError
from playground.net.trace import Trace
from playground.timefmt import iptables_date

COMMANDS = [
    "kubectl run NAME --image=IMAGE [--port=N] [--labels=k=v]",
    "kubectl create deployment NAME --image=IMAGE [--replicas=N] [--port=N]",
    "kubectl expose deployment NAME --port=N [--target-port=N] [--type=LoadBalancer]",
    "kubectl scale deployment NAME --replicas=N",
    "kubectl delete pod|deployment|service|ingress NAME",
    "kubectl get pods|nodes|svc|deployments|ingress [-o wide] [-A]",
    "kubectl apply -f FILE",
    "trace SRC DST [--port N] [--proto tcp|udp|icmp] [--host H] [--path P]",
    "reply",
    "traffic SRC svc/NAME [--count N]",
    "ip route [add|del PREFIX [via GW] [dev DEV]]",
    "iptables-save [-t TABLE] [-c]",
    "conntrack -L",
    "sysctl -w KEY=VALUE",
]
KINDS = {"pod": "pod", "pods": "pod", "po": "pod", "deployment": "deployment",
         "deployments": "deployment", "deploy": "deployment", "service": "service",
         "services": "service", "svc": "service", "ingress": "ingress", "ingresses": "ingress",
         "ing": "ingress", "node": "node", "nodes": "node", "no": "node"}


class ShellError(ValueError):
    """One line shown under the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ShellError(f"{self.prog}: {message}")


@dataclass
class ShellResult:
    output: str = ""
    trace: Trace | None = None
    traces: list[Trace] = field(default_factory=list)
    changed: bool = False


def _labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    labels = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ShellError(f"label {item!r}: write labels as key=value[,key=value]")
        labels[key] = value
    return labels


def _kind_and_name(words: list[str]) -> tuple[str, str]:
    """`deployment web`, `deployment/web` or `deploy web`."""
    if len(words) == 1 and "/" in words[0]:
        words = words[0].split("/", 1)
    if len(words) != 2:
        raise ShellError("name the object as KIND NAME or KIND/NAME")
    kind = KINDS.get(words[0])
    if kind is None:
        raise ShellError(f"unknown kind {words[0]!r}: use pod, deployment, service or ingress")
    return kind, words[1]


class Shell:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.last: Trace | None = None
        self.history: list[str] = []

    async def run(self, line: str, selected: str | None = None) -> ShellResult:
        """Run one command; `selected` is the namespace (node or pod) node tools act on."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise ShellError(f"cannot read the command: {error}") from None
        if not words:
            return ShellResult()
        self.history.append(line)
        try:
            if words[0] == "kubectl":
                return await self._kubectl(words[1:])
            handler = {"trace": self._trace, "reply": self._reply, "traffic": self._traffic,
                       "ip": self._ip, "iptables-save": self._iptables_save,
                       "conntrack": self._conntrack, "sysctl": self._sysctl}.get(words[0])
            if handler is None:
                raise ShellError(f"unknown command {words[0]!r}: try kubectl, trace, reply, "
                                 "traffic, ip route, iptables-save, conntrack -L (? for help)")
            if words[0] in ("ip", "iptables-save", "conntrack", "sysctl"):
                return handler(words[1:], selected)
            return await handler(words[1:]) if words[0] == "traffic" else handler(words[1:])
        except (ClusterError, NetError) as error:
            raise ShellError(str(error)) from None

    # kubectl

    async def _kubectl(self, words: list[str]) -> ShellResult:
        if not words:
            raise ShellError("kubectl: say what to do, e.g. kubectl get pods")
        verb, rest = words[0], words[1:]
        if verb == "get":
            return ShellResult(self._get(rest))
        handler = {"run": self._run, "create": self._create, "expose": self._expose,
                   "scale": self._scale, "delete": self._delete, "apply": self._apply}.get(verb)
        if handler is None:
            raise ShellError(f"kubectl {verb}: not supported here (run, create deployment, "
                             "expose, scale, delete, get, apply)")
        return await handler(rest)

    def _get(self, words: list[str]) -> str:
        parser = _Parser(prog="kubectl get", add_help=False)
        parser.add_argument("kind")
        parser.add_argument("-o", "--output", choices=["wide"])
        parser.add_argument("-n", "--namespace", default="default")
        parser.add_argument("-A", "--all-namespaces", action="store_true")
        args = parser.parse_args(words)
        namespace = None if args.all_namespaces else args.namespace
        kind = KINDS.get(args.kind)
        wide = args.output == "wide"
        if kind == "pod":
            return pods_table(self.cluster, namespace, wide)
        if kind == "node":
            return nodes_table(self.cluster, wide)
        if kind == "service":
            return services_table(self.cluster, namespace)
        if kind == "deployment":
            return deployments_table(self.cluster, namespace)
        if kind == "ingress":
            return ingresses_table(self.cluster, namespace)
        raise ShellError(f"kubectl get: unknown kind {args.kind!r} (pods, nodes, svc, "
                         "deployments, ingress)")

    async def _run(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl run", add_help=False)
        parser.add_argument("name")
        parser.add_argument("--image", required=True)
        parser.add_argument("--port", type=int)
        parser.add_argument("--labels")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        ports = [ContainerPort(args.port)] if args.port else []
        labels = _labels(args.labels) or {"run": args.name}
        await self.cluster.add_pod(args.name, [Container(args.name, args.image, ports)],
                                   namespace=args.namespace, labels=labels)
        return ShellResult(f"pod/{args.name} created\n", changed=True)

    async def _create(self, words: list[str]) -> ShellResult:
        if not words or words[0] not in ("deployment", "deploy"):
            raise ShellError("kubectl create: only `kubectl create deployment` is supported")
        parser = _Parser(prog="kubectl create deployment", add_help=False)
        parser.add_argument("name")
        parser.add_argument("--image", required=True)
        parser.add_argument("--replicas", type=int, default=1)
        parser.add_argument("--port", type=int)
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words[1:])
        ports = [ContainerPort(args.port)] if args.port else []
        # kubectl names the container after the image: registry/nginx:1.27 -> nginx
        container = Container(args.image.rsplit("/", 1)[-1].split(":")[0].split("@")[0],
                              args.image, ports)
        await self.cluster.add_deployment(args.name, [container], args.replicas,
                                          namespace=args.namespace)
        return ShellResult(f"deployment.apps/{args.name} created\n", changed=True)

    async def _expose(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl expose", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--target-port")
        parser.add_argument("--type", default="ClusterIP")
        parser.add_argument("--name")
        parser.add_argument("--protocol", default="TCP")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        kind, name = _kind_and_name(args.target)
        if kind == "deployment":
            found = self.cluster.api.peek("Deployment", args.namespace, name)
            selector = dict(found.selector) if found else None
        elif kind == "pod":
            found = self.cluster.api.peek("Pod", args.namespace, name)
            selector = dict(found.metadata.labels) if found else None
        else:
            raise ShellError("kubectl expose: expose a deployment or a pod")
        if selector is None:
            raise ShellError(f'{kind} "{name}" not found in namespace "{args.namespace}"')
        target = args.target_port
        target = int(target) if target and target.isdigit() else target
        service_name = args.name or name
        await self.cluster.add_service(
            service_name, [ServicePort(args.port, target or args.port, args.protocol.upper())],
            namespace=args.namespace, selector=selector, type=args.type)
        return ShellResult(f"service/{service_name} exposed\n", changed=True)

    async def _scale(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl scale", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("--replicas", type=int, required=True)
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        kind, name = _kind_and_name(args.target)
        if kind != "deployment":
            raise ShellError("kubectl scale: only deployments scale here")
        await self.cluster.scale(name, args.replicas, args.namespace)
        return ShellResult(f"deployment.apps/{name} scaled\n", changed=True)

    async def _delete(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl delete", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        kind, name = _kind_and_name(args.target)
        actions = {"pod": self.cluster.delete_pod, "deployment": self.cluster.delete_deployment,
                   "service": self.cluster.delete_service,
                   "ingress": self.cluster.delete_ingress}
        if kind not in actions:
            raise ShellError(f"kubectl delete: {kind}s cannot be deleted here")
        await actions[kind](name, args.namespace)
        shown = {"deployment": "deployment.apps"}.get(kind, kind)
        return ShellResult(f'{shown} "{name}" deleted\n', changed=True)

    async def _apply(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl apply", add_help=False)
        parser.add_argument("-f", "--filename", action="append", required=True)
        args = parser.parse_args(words)
        await apply_files(self.cluster, args.filename)
        return ShellResult(f"applied {', '.join(args.filename)}\n", changed=True)

    # packets

    def _trace(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="trace", add_help=False)
        parser.add_argument("src")
        parser.add_argument("dst")
        parser.add_argument("--port", type=int)
        parser.add_argument("--proto", choices=["tcp", "udp", "icmp"], default="tcp")
        parser.add_argument("--host", default="")
        parser.add_argument("--path", default="/")
        parser.add_argument("-n", "--namespace")
        args = parser.parse_args(words)
        trace = send(self.cluster, args.src, args.dst, args.proto, args.port, args.namespace)
        self.last = trace
        traces = [trace]
        proxied = follow_ingress(self.cluster, trace, args.host, args.path)
        if proxied is not None:
            traces.append(proxied.trace)
        return ShellResult(trace.text(), trace=trace, traces=traces)

    def _reply(self, words: list[str]) -> ShellResult:
        if words:
            raise ShellError("reply takes no arguments: it answers the last trace")
        if self.last is None:
            raise ShellError("nothing to reply to: trace a packet first")
        if self.last.verdict != "delivered":
            raise ShellError(f"the last packet was {self.last.verdict}: there is no reply")
        trace = self.cluster.network.reply(self.last)
        return ShellResult(trace.text(), trace=trace, traces=[trace])

    async def _traffic(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="traffic", add_help=False)
        parser.add_argument("src")
        parser.add_argument("dst")
        parser.add_argument("--count", type=int, default=100)
        parser.add_argument("--port", type=int)
        parser.add_argument("-n", "--namespace")
        args = parser.parse_args(words)
        if not 1 <= args.count <= 10000:
            raise ShellError("traffic: --count must be between 1 and 10000")
        spread = generate(self.cluster, args.src, args.dst, args.count, port=args.port,
                          namespace=args.namespace)
        return ShellResult(spread.text())

    # node tools, on the selected node or pod

    def _namespace(self, selected: str | None):
        if selected is None:
            raise ShellError("select a node or a pod first")
        return self.cluster.network.namespace(resolve(self.cluster, selected).namespace)

    def _ip(self, words: list[str], selected: str | None) -> ShellResult:
        if len(words) > 1 and words[0] in ("route", "r", "ro") and words[1] in (
                "add", "del", "delete"):
            try:
                ip_route_change(self._namespace(selected), words[1], words[2:])
            except RouteError as error:
                raise ShellError(str(error)) from None
            return ShellResult(changed=True)
        if words not in (["route"], ["r"], ["route", "show"], ["ro"]):
            raise ShellError("ip: only `ip route`, `ip route add` and `ip route del` are "
                             "modelled here")
        return ShellResult(self._namespace(selected).ip_route())

    def _iptables_save(self, words: list[str], selected: str | None) -> ShellResult:
        parser = _Parser(prog="iptables-save", add_help=False)
        parser.add_argument("-t", "--table", choices=["raw", "mangle", "nat", "filter"])
        parser.add_argument("-c", "--counters", action="store_true")
        args = parser.parse_args(words)
        ns = self._namespace(selected)
        return ShellResult(ns.netfilter.save([args.table] if args.table else None,
                                             counters=args.counters,
                                             when=iptables_date(self.cluster.network.clock)))

    def _conntrack(self, words: list[str], selected: str | None) -> ShellResult:
        if words != ["-L"]:
            raise ShellError("conntrack: only `conntrack -L` is modelled here")
        table = self._namespace(selected).conntrack
        listing = table.listing()
        return ShellResult(listing + table.summary(len(table)) + "\n")

    def _sysctl(self, words: list[str], selected: str | None) -> ShellResult:
        if len(words) != 2 or words[0] != "-w":
            raise ShellError("sysctl: write it as sysctl -w KEY=VALUE")
        key, value = self._namespace(selected).write_sysctl(words[1])
        return ShellResult(f"{key} = {value}\n", changed=True)
