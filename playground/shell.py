"""The `:` command line: the kubectl commands a learner knows, node tools, and traces.

It drives the same Cluster actions as the CLI and tests; the app only shows the result.
"""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import dataclass, field

from playground import cni
from playground.cluster.cilium_views import cilium_view
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.lab import build_default_lab
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, ContainerPort, ObjectMeta
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
from playground.limits import MAX_PODS, MAX_TRAFFIC_COUNT, LimitError, check_command_line
from playground.net.iplink import bridge_fdb_show, ip_link_show, ip_neigh_show
from playground.net.iproute import ip_route_change
from playground.net.ipvsadm import ipset, ipvsadm
from playground.net.netns import NetError
from playground.net.route import RouteError
from playground.net.trace import Trace
from playground.numbers import PORT, SEED, NumberError, argument, port_or_name, whole
from playground.proxy.modes import PROXY_MODES
from playground.timefmt import iptables_date

COMMANDS = [
    "kubectl run NAME --image=IMAGE [--port=N] [--labels=k=v] "
    "[--overrides='{\"spec\":{\"nodeName\":\"NODE\"}}']",
    "kubectl create deployment NAME --image=IMAGE [--replicas=N] [--port=N]",
    "kubectl create service clusterip|nodeport|loadbalancer NAME --tcp=PORT[:TARGET]",
    "kubectl create ingress NAME --rule=HOST/PATH*=SERVICE:PORT",
    "kubectl expose deployment NAME --port=N [--target-port=N] [--type=LoadBalancer]",
    "kubectl set selector service NAME k=v[,k=v]",
    "kubectl patch service NAME -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'",
    "kubectl scale deployment NAME --replicas=N",
    "kubectl delete pod|deployment|service|ingress|node NAME",
    "node add NAME [--control-plane]",
    "lab new [--cni " + "|".join(cni.PLUGINS) + "] [--seed N] [--proxy-mode iptables|ipvs]",
    "kubectl get pods|nodes|svc|deployments|ingress [-o wide] [-A] [--show-labels]",
    "kubectl apply -f FILE",
    "trace SRC DST [--port N] [--proto tcp|udp|icmp] [--host H] [--path P]",
    "reply",
    "traffic SRC svc/NAME [--count N]",
    "ip route [add|del PREFIX [via GW] [dev DEV]]",
    "iptables-save [-t TABLE] [-c]",
    "conntrack -L",
    "cilium bpf lb list|bpf ct list global|bpf nat list|bpf tunnel list|service list",
    "ipvsadm -Ln | -Lnc",
    "ipset list [SETNAME]",
    "sysctl -w KEY=VALUE",
]
KINDS = {"pod": "pod", "pods": "pod", "po": "pod", "deployment": "deployment",
         "deployments": "deployment", "deploy": "deployment", "service": "service",
         "services": "service", "svc": "service", "ingress": "ingress", "ingresses": "ingress",
         "ing": "ingress", "node": "node", "nodes": "node", "no": "node"}


REPLICAS = argument(0, MAX_PODS)


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
    replaced: bool = False  # the whole lab was rebuilt
    created: str | None = None  # what the command made, as the app selects it


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


def _node_override(text: str | None) -> str | None:
    """kubectl run's --overrides, of which only spec.nodeName means anything here."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ShellError('--overrides: write it as \'{"spec":{"nodeName":"NODE"}}\'') from None
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or set(data) != {"spec"} or set(spec) != {"nodeName"} \
            or not isinstance(spec["nodeName"], str):
        raise ShellError("--overrides: only spec.nodeName can be overridden here")
    return spec["nodeName"]


PATCHABLE = {"selector": "selector", "sessionAffinity": "session_affinity",
             "externalTrafficPolicy": "external_traffic_policy",
             "internalTrafficPolicy": "internal_traffic_policy",
             "loadBalancerSourceRanges": "load_balancer_source_ranges"}


def _service_patch(text: str) -> dict:
    """A strategic merge patch of a Service's spec, limited to what may change in place."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ShellError(f"kubectl patch: the patch is not JSON ({error})") from None
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or set(data) != {"spec"} or not spec:
        raise ShellError('kubectl patch: write the patch as \'{"spec":{FIELD: VALUE}}\'')
    changes = {}
    for key, value in spec.items():
        if key not in PATCHABLE:
            raise ShellError(f"kubectl patch: spec.{key} cannot be patched here (only "
                             + ", ".join(PATCHABLE) + ")")
        wants = {"selector": dict, "loadBalancerSourceRanges": list}.get(key, str)
        if not isinstance(value, wants):
            raise ShellError(f"kubectl patch: spec.{key} must be a {wants.__name__}")
        if wants is dict and not all(isinstance(v, str) for v in value.values()):
            raise ShellError("kubectl patch: spec.selector values must be strings")
        if wants is list and not all(isinstance(v, str) for v in value):
            raise ShellError(f"kubectl patch: spec.{key} must be a list of CIDRs")
        changes[PATCHABLE[key]] = value
    return changes


def _backend(text: str) -> IngressBackend:
    service, sep, port = text.rpartition(":")
    if not sep or not service or not port:
        raise ShellError(f"ingress backend {text!r}: write it as SERVICE:PORT")
    return IngressBackend(service, port_or_name(port, f"ingress backend {text!r}"))


def _ingress_rule(text: str) -> tuple[str | None, IngressPath]:
    """kubectl's --rule=HOST/PATH=SERVICE:PORT; a path ending in * is a Prefix."""
    where, sep, backend = text.partition("=")
    if not sep or "/" not in where:
        raise ShellError(f"--rule {text!r}: write it as HOST/PATH=SERVICE:PORT "
                         "(end PATH with * for a prefix)")
    host, _, path = where.partition("/")
    path = "/" + path
    kind = "Prefix" if path.endswith("*") else "Exact"
    path = path.rstrip("*") or "/"
    return host or None, IngressPath(_backend(backend), path, kind)


def _kind_and_name(words: list[str]) -> tuple[str, str]:
    """`deployment web`, `deployment/web` or `deploy web`."""
    if len(words) == 1 and "/" in words[0]:
        words = words[0].split("/", 1)
    if len(words) != 2:
        raise ShellError("name the object as KIND NAME or KIND/NAME")
    kind = KINDS.get(words[0])
    if kind is None:
        raise ShellError(f"unknown kind {words[0]!r}: use pod, deployment, service, ingress "
                         "or node")
    return kind, words[1]


class Shell:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.last: Trace | None = None
        self.history: list[str] = []

    async def run(self, line: str, selected: str | None = None) -> ShellResult:
        """Run one command; `selected` is the namespace (node or pod) node tools act on."""
        try:
            check_command_line(line)
            words = shlex.split(line)
        except LimitError as error:
            raise ShellError(str(error)) from None
        except ValueError as error:
            raise ShellError(f"cannot read the command: {error}") from None
        if not words:
            return ShellResult()
        self.history.append(line)
        try:
            if words[0] == "kubectl":
                return await self._kubectl(words[1:])
            if words[0] == "node":
                return await self._node(words[1:])
            if words[0] == "lab":
                return await self._lab(words[1:])
            handler = {"trace": self._trace, "reply": self._reply, "traffic": self._traffic,
                       "ip": self._ip, "iptables-save": self._iptables_save,
                       "conntrack": self._conntrack, "sysctl": self._sysctl,
                       "bridge": self._bridge, "cilium": self._cilium,
                       "ipvsadm": self._ipvsadm, "ipset": self._ipset}.get(words[0])
            if handler is None:
                raise ShellError(f"unknown command {words[0]!r}: try kubectl, node, trace, "
                                 "reply, traffic, ip route, iptables-save, conntrack -L, "
                                 "bridge fdb, cilium, ipvsadm -Ln (? for help)")
            if words[0] in ("ip", "iptables-save", "conntrack", "sysctl", "bridge", "cilium",
                            "ipvsadm", "ipset"):
                return handler(words[1:], selected)
            return await handler(words[1:]) if words[0] == "traffic" else handler(words[1:])
        except (ClusterError, NetError, NumberError, LimitError) as error:
            raise ShellError(str(error)) from None

    # kubectl

    async def _kubectl(self, words: list[str]) -> ShellResult:
        if not words:
            raise ShellError("kubectl: say what to do, e.g. kubectl get pods")
        verb, rest = words[0], words[1:]
        if verb == "get":
            return ShellResult(self._get(rest))
        handler = {"run": self._run, "create": self._create, "expose": self._expose,
                   "scale": self._scale, "delete": self._delete, "apply": self._apply,
                   "set": self._set, "patch": self._patch}.get(verb)
        if handler is None:
            raise ShellError(f"kubectl {verb}: not supported here (run, create, expose, set "
                             "selector, patch, scale, delete, get, apply)")
        return await handler(rest)

    def _get(self, words: list[str]) -> str:
        parser = _Parser(prog="kubectl get", add_help=False)
        parser.add_argument("kind")
        parser.add_argument("-o", "--output", choices=["wide"])
        parser.add_argument("-n", "--namespace", default="default")
        parser.add_argument("-A", "--all-namespaces", action="store_true")
        parser.add_argument("--show-labels", action="store_true")
        args = parser.parse_args(words)
        namespace = None if args.all_namespaces else args.namespace
        kind = KINDS.get(args.kind)
        wide = args.output == "wide"
        if kind == "pod":
            return pods_table(self.cluster, namespace, wide, args.show_labels)
        if kind == "node":
            return nodes_table(self.cluster, wide)
        if kind == "service":
            return services_table(self.cluster, namespace, wide)
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
        parser.add_argument("--port", type=PORT)
        parser.add_argument("--labels")
        parser.add_argument("--overrides")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        ports = [ContainerPort(args.port)] if args.port else []
        labels = _labels(args.labels) or {"run": args.name}
        await self.cluster.add_pod(args.name, [Container(args.name, args.image, ports)],
                                   namespace=args.namespace, labels=labels,
                                   node_name=_node_override(args.overrides))
        return ShellResult(f"pod/{args.name} created\n", changed=True,
                           created=f"pod/{args.namespace}/{args.name}")

    async def _create(self, words: list[str]) -> ShellResult:
        what = words[0] if words else ""
        if what in ("service", "svc"):
            return await self._create_service(words[1:])
        if what in ("ingress", "ing"):
            return await self._create_ingress(words[1:])
        if what not in ("deployment", "deploy"):
            raise ShellError("kubectl create: deployment, service or ingress")
        parser = _Parser(prog="kubectl create deployment", add_help=False)
        parser.add_argument("name")
        parser.add_argument("--image", required=True)
        parser.add_argument("--replicas", type=REPLICAS, default=1)
        parser.add_argument("--port", type=PORT)
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words[1:])
        ports = [ContainerPort(args.port)] if args.port else []
        # kubectl names the container after the image: registry/nginx:1.27 -> nginx
        container = Container(args.image.rsplit("/", 1)[-1].split(":")[0].split("@")[0],
                              args.image, ports)
        await self.cluster.add_deployment(args.name, [container], args.replicas,
                                          namespace=args.namespace)
        return ShellResult(f"deployment.apps/{args.name} created\n", changed=True,
                           created=f"deploy/{args.namespace}/{args.name}")

    async def _create_service(self, words: list[str]) -> ShellResult:
        types = {"clusterip": "ClusterIP", "nodeport": "NodePort",
                 "loadbalancer": "LoadBalancer"}
        if not words or words[0] not in types:
            raise ShellError("kubectl create service: clusterip, nodeport or loadbalancer")
        parser = _Parser(prog=f"kubectl create service {words[0]}", add_help=False)
        parser.add_argument("name")
        parser.add_argument("--tcp", action="append", required=True, metavar="PORT[:TARGET]")
        parser.add_argument("--node-port", type=argument(0, 65535))
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words[1:])
        ports = []
        for item in args.tcp:
            port, _, target = item.partition(":")
            number = whole(port, f"--tcp {item!r}: PORT", 1, 65535)
            target_number = whole(target, f"--tcp {item!r}: TARGETPORT", 1, 65535) \
                if target else number
            name = f"{port}-{target or port}" if len(args.tcp) > 1 else None
            ports.append(ServicePort(number, target_number, "TCP", name=name,
                                     node_port=args.node_port or None))
        # as kubectl does, the Service selects app=NAME; `kubectl set selector` changes it
        await self.cluster.add_service(args.name, ports, namespace=args.namespace,
                                       selector={"app": args.name}, type=types[words[0]])
        return ShellResult(f"service/{args.name} created\n", changed=True,
                           created=f"svc/{args.namespace}/{args.name}")

    async def _create_ingress(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl create ingress", add_help=False)
        parser.add_argument("name")
        parser.add_argument("--rule", action="append", default=[],
                            metavar="HOST/PATH=SERVICE:PORT")
        parser.add_argument("--default-backend", metavar="SERVICE:PORT")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        if not args.rule and not args.default_backend:
            raise ShellError("kubectl create ingress: give at least one --rule or "
                             "--default-backend")
        rules: dict[str | None, IngressRule] = {}
        for text in args.rule:
            host, path = _ingress_rule(text)
            rules.setdefault(host, IngressRule([], host)).paths.append(path)
        default = _backend(args.default_backend) if args.default_backend else None
        ingress = Ingress(ObjectMeta(args.name, args.namespace), list(rules.values()), default)
        await self.cluster.add_ingress(ingress)
        return ShellResult(f"ingress.networking.k8s.io/{args.name} created\n", changed=True,
                           created=f"ing/{args.namespace}/{args.name}")

    async def _set(self, words: list[str]) -> ShellResult:
        if not words or words[0] != "selector":
            raise ShellError("kubectl set: only `kubectl set selector service NAME k=v` here")
        parser = _Parser(prog="kubectl set selector", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words[1:])
        *target, selector = args.target
        kind, name = _kind_and_name(target)
        if kind != "service":
            raise ShellError("kubectl set selector: only Services here")
        await self.cluster.update_service(name, args.namespace, selector=_labels(selector))
        return ShellResult(f"service/{name} selector updated\n", changed=True)

    async def _patch(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl patch", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("-p", "--patch", required=True)
        parser.add_argument("-n", "--namespace", default="default")
        args = parser.parse_args(words)
        kind, name = _kind_and_name(args.target)
        if kind != "service":
            raise ShellError("kubectl patch: only Services here")
        await self.cluster.update_service(name, args.namespace, **_service_patch(args.patch))
        return ShellResult(f"service/{name} patched\n", changed=True)

    async def _node(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="node", add_help=False)
        parser.add_argument("verb", choices=["add", "remove"])
        parser.add_argument("name")
        parser.add_argument("--control-plane", action="store_true")
        args = parser.parse_args(words)
        if args.verb == "add":
            node = await self.cluster.add_node(args.name, control_plane=args.control_plane)
            return ShellResult(f"node/{node.name} joined: {node.status.internal_ip}, pod CIDR "
                               f"{node.spec.pod_cidr}\n", changed=True,
                               created=f"node/{node.name}")
        await self.cluster.remove_node(args.name)
        return ShellResult(f'node "{args.name}" removed\n', changed=True)

    async def _lab(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="lab", add_help=False)
        parser.add_argument("verb", choices=["new"])
        parser.add_argument("--cni", choices=sorted(cni.PLUGINS), default="bridge")
        parser.add_argument("--seed", type=SEED, default=0)
        parser.add_argument("--proxy-mode", choices=list(PROXY_MODES), default="iptables")
        args = parser.parse_args(words)
        fresh = await build_default_lab(cni=args.cni, seed=args.seed,
                                        proxy_mode=args.proxy_mode)
        await self.cluster.stop()
        self.cluster, self.last = fresh, None
        return ShellResult(f"a new default lab: CNI {args.cni}, seed {args.seed}, kube-proxy "
                           f"in {args.proxy_mode} mode\n", changed=True, replaced=True)

    async def _expose(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl expose", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("--port", type=PORT, required=True)
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
        target = port_or_name(target, "--target-port") if target else None
        service_name = args.name or name
        await self.cluster.add_service(
            service_name, [ServicePort(args.port, target or args.port, args.protocol.upper())],
            namespace=args.namespace, selector=selector, type=args.type)
        return ShellResult(f"service/{service_name} exposed\n", changed=True,
                           created=f"svc/{args.namespace}/{service_name}")

    async def _scale(self, words: list[str]) -> ShellResult:
        parser = _Parser(prog="kubectl scale", add_help=False)
        parser.add_argument("target", nargs="+")
        parser.add_argument("--replicas", type=REPLICAS, required=True)
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
                   "ingress": self.cluster.delete_ingress,
                   "node": lambda name, _namespace: self.cluster.remove_node(name)}
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
        parser.add_argument("--port", type=PORT)
        parser.add_argument("--proto", choices=["tcp", "udp", "icmp"], default="tcp")
        parser.add_argument("--host", default="")
        parser.add_argument("--path", default="/")
        parser.add_argument("--size", type=argument(0, 65535))
        parser.add_argument("--df", action="store_true")
        parser.add_argument("-n", "--namespace")
        args = parser.parse_args(words)
        trace = send(self.cluster, args.src, args.dst, args.proto, args.port, args.namespace,
                     size=args.size, df=args.df)
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
        parser.add_argument("--count", type=argument(1, MAX_TRAFFIC_COUNT), default=100)
        parser.add_argument("--port", type=PORT)
        parser.add_argument("-n", "--namespace")
        args = parser.parse_args(words)
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
        details = words[:1] in (["-d"], ["-details"])
        rest = words[1:] if details else words
        if rest[:1] in (["link"], ["l"]) and rest[1:2] == ["show"] and len(rest) in (3, 4):
            name = rest[-1]
            if len(rest) == 4 and rest[2] != "dev":
                raise ShellError("ip link: write it as ip [-d] link show [dev] NAME")
            return ShellResult(ip_link_show(self._namespace(selected), name, details))
        if rest[:1] in (["neigh"], ["n"]) and rest[1:2] in ([], ["show"]):
            dev = self._dev_option("ip neigh", rest[2:])
            return ShellResult(ip_neigh_show(self._namespace(selected), dev))
        if words not in (["route"], ["r"], ["route", "show"], ["ro"]):
            raise ShellError("ip: only `ip route` (show, add, del), `ip -d link show NAME` "
                             "and `ip neigh show` are modelled here")
        return ShellResult(self._namespace(selected).ip_route())

    @staticmethod
    def _dev_option(command: str, words: list[str]) -> str | None:
        if not words:
            return None
        if len(words) == 2 and words[0] == "dev":
            return words[1]
        raise ShellError(f"{command}: the only option modelled here is `dev NAME`")

    def _bridge(self, words: list[str], selected: str | None) -> ShellResult:
        if words[:2] != ["fdb", "show"]:
            raise ShellError("bridge: only `bridge fdb show [dev NAME]` is modelled here")
        dev = self._dev_option("bridge fdb show", words[2:])
        return ShellResult(bridge_fdb_show(self._namespace(selected), dev))

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

    def _cilium(self, words: list[str], selected: str | None) -> ShellResult:
        return ShellResult(cilium_view(self.cluster, self._namespace(selected).name, words))

    def _ipvsadm(self, words: list[str], selected: str | None) -> ShellResult:
        return ShellResult(ipvsadm(self._namespace(selected), words, self.cluster.network.clock))

    def _ipset(self, words: list[str], selected: str | None) -> ShellResult:
        return ShellResult(ipset(self._namespace(selected), words))

    def _sysctl(self, words: list[str], selected: str | None) -> ShellResult:
        if len(words) != 2 or words[0] != "-w":
            raise ShellError("sysctl: write it as sysctl -w KEY=VALUE")
        key, value = self._namespace(selected).write_sysctl(words[1])
        return ShellResult(f"{key} = {value}\n", changed=True)
