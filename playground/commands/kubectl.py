"""`kubectl` on the `:` line: the verbs a learner knows, on the lab's API objects."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from playground.cluster.cluster import Cluster
from playground.cluster.configmap_show import as_yaml as configmap_yaml
from playground.cluster.configmap_show import describe as describe_configmap
from playground.cluster.deployment_patch import patch_changes
from playground.cluster.describe_service import describe_service
from playground.cluster.gateway.tables import describe as describe_gateway_api
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.kinds import KINDS as API_KINDS
from playground.cluster.kinds import Kind as ApiKind
from playground.cluster.manifests import apply_files
from playground.cluster.netpol.describe import describe as network_policy_text
from playground.cluster.netpol.view import PolicyView
from playground.cluster.node_drain import DrainError, cordon, drain, label_node
from playground.cluster.objects import Container, ContainerPort, ObjectMeta
from playground.cluster.proxy_config import FIELDS as PROXY_FIELDS
from playground.cluster.service import ServicePort
from playground.cluster.tables import events_table
from playground.commands.base import (
    Call,
    Command,
    ShellError,
    ShellResult,
    choices,
    parser,
    positional,
)
from playground.limits import MAX_PODS
from playground.numbers import PORT, argument, port_or_name, whole

REPLICAS = argument(0, MAX_PODS)


@dataclass(frozen=True)
class Kind:
    """A kind of the table of kinds (cluster/kinds.py) as the `:` line spells, lists and
    deletes it."""

    name: str
    spellings: tuple[str, ...]  # the first is what completion offers after `kubectl get`
    names: Callable[[Cluster], list[str]]  # the objects of the default namespace
    table: Callable[[Cluster, str | None, argparse.Namespace], str] | None = None
    delete: Callable[[Cluster, str, str], object] | None = None


def _delete_stored(kind: str, cluster, name: str, namespace: str):
    return cluster.delete_api_object(kind, "" if kind == "GatewayClass" else namespace, name)


# the cluster's action behind `kubectl delete KIND NAME`, for the kinds it may delete
DELETE = {
    "Pod": lambda c, name, ns: c.delete_pod(name, ns),
    "Node": lambda c, name, ns: c.remove_node(name),
    "Service": lambda c, name, ns: c.delete_service(name, ns),
    "Deployment": lambda c, name, ns: c.delete_deployment(name, ns),
    "DaemonSet": lambda c, name, ns: c.delete_daemon_set(name, ns),
    "StatefulSet": lambda c, name, ns: c.delete_stateful_set(name, ns),
    "Ingress": lambda c, name, ns: c.delete_ingress(name, ns),
    "NetworkPolicy": lambda c, name, ns: c.delete_network_policy(name, ns),
    "IPAddressPool": lambda c, name, ns: c.delete_recipe_object("IPAddressPool", name, ns),
    "L2Advertisement": lambda c, name, ns: c.delete_recipe_object("L2Advertisement", name, ns),
    **{kind: functools.partial(_delete_stored, kind) for kind in
       ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant", "ServiceAccount", "Secret")},
}
# what completion offers first, where kubectl users type another spelling than the plural
OFFERED = {"Service": "svc", "Ingress": "ingress"}


def _kind(api_kind: ApiKind) -> Kind:
    namespaced = api_kind.name not in ("Node", "Namespace", "GatewayClass")
    offered = OFFERED.get(api_kind.name, api_kind.names[1])
    spellings = (offered, *(n for n in api_kind.names if n != offered))
    table = api_kind.table
    return Kind(
        api_kind.name.lower(), spellings,
        lambda c: [o.metadata.name for o in c.api.list(api_kind.name,
                                                        "default" if namespaced else None)],
        (lambda c, ns, a: table(c, ns, a.output == "wide", a.show_labels)) if table else None,
        DELETE.get(api_kind.name))


# events are no kind of the lab's API: the lab keeps them in its own log (cluster/events.py)
EVENTS = Kind("event", ("events", "event", "ev"), lambda c: [],
              lambda c, ns, a: events_table(c, ns))
KIND_LIST = (*(_kind(kind) for kind in API_KINDS if kind.names), EVENTS)
KINDS = {spelling: kind for kind in KIND_LIST for spelling in kind.spellings}
FLAGS = ("-o", "wide", "-A", "--ignore-daemonsets", "--force", "--image=", "--port=",
         "--replicas=", "--type=", "--target-port=", "--labels=", "--tcp=", "--rule=", "-n")


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


OVERRIDDEN = {"nodeName": str, "hostNetwork": bool}   # kubectl run --overrides, as modelled


def _overrides(text: str | None) -> dict:
    """kubectl run's --overrides, of which spec.nodeName and spec.hostNetwork mean
    something here, as keyword arguments of add_pod."""
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise ShellError('--overrides: write it as \'{"spec":{"nodeName":"NODE"}}\'') from None
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or set(data) != {"spec"} or not spec \
            or not set(spec) <= set(OVERRIDDEN) \
            or any(not isinstance(v, OVERRIDDEN[k]) for k, v in spec.items()):
        raise ShellError("--overrides: only spec.nodeName (a string) and spec.hostNetwork "
                         "(true or false) can be overridden here")
    return {"node_name": spec.get("nodeName"), "host_network": spec.get("hostNetwork", False)}


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


def _proxy_config_patch(text: str) -> dict:
    """A merge patch of KubeProxyConfiguration fields, nested as in its YAML
    (`{"iptables":{"masqueradeAll":true}}`)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ShellError(f"kubectl patch: the patch is not JSON ({error})") from None
    if not isinstance(data, dict) or not data:
        raise ShellError('kubectl patch: write the patch as \'{"iptables":{"masqueradeAll":'
                         'true}}\'')
    changes = {}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, path + ".")
            elif path in PROXY_FIELDS:
                changes[PROXY_FIELDS[path]] = value
            else:
                raise ShellError(f"kubectl patch: {path} cannot be patched here (only "
                                 + ", ".join(PROXY_FIELDS) + ")")
    walk(data, "")
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


def kind_and_name(words: list[str]) -> tuple[str, str]:
    """`deployment web`, `deployment/web` or `deploy web`."""
    if len(words) == 1 and "/" in words[0]:
        words = words[0].split("/", 1)
    if len(words) != 2:
        raise ShellError("name the object as KIND NAME or KIND/NAME")
    kind = KINDS.get(words[0])
    if kind is None:
        names = [k.name for k in KIND_LIST]
        raise ShellError(f"unknown kind {words[0]!r}: use {', '.join(names[:-1])} or "
                         f"{names[-1]}")
    return kind.name, words[1]


def get(shell, call: Call) -> ShellResult:
    p = parser("kubectl get")
    p.add_argument("kind")
    p.add_argument("name", nargs="?")
    p.add_argument("-o", "--output", choices=["wide", "yaml"])
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-A", "--all-namespaces", action="store_true")
    p.add_argument("--show-labels", action="store_true")
    args = p.parse_intermixed_args(call.args)   # kubectl get cm -n NS NAME -o yaml
    if "/" in args.kind and args.name is None:   # kubectl get configmap/coredns
        args.kind, args.name = args.kind.split("/", 1)
    if args.name is not None or args.output == "yaml":
        kind = KINDS.get(args.kind)
        if kind is None or kind.table is None:
            listed = ", ".join(k.spellings[0] for k in KIND_LIST if k.table is not None)
            raise ShellError(f"kubectl get: unknown kind {args.kind!r} ({listed})")
        return ShellResult(_one_as_yaml(shell.cluster, kind, args))
    namespace = None if args.all_namespaces else args.namespace
    tables = []
    for word in args.kind.split(","):   # kubectl get gatewayclass,gateway,httproute
        kind = KINDS.get(word)
        if kind is None or kind.table is None:
            listed = ", ".join(k.spellings[0] for k in KIND_LIST if k.table is not None)
            raise ShellError(f"kubectl get: unknown kind {word!r} ({listed})")
        tables.append(kind.table(shell.cluster, namespace, args))
    return ShellResult("\n".join(tables))


DESCRIBED = ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant")


def describe(shell, call: Call) -> ShellResult:
    p = parser("kubectl describe")
    p.add_argument("target", nargs="+")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    kind, name = kind_and_name(args.target)
    if kind == "service":
        return ShellResult(describe_service(shell.cluster,
                                            shell.cluster.find_service(name, args.namespace)))
    api_kind = next((k for k in DESCRIBED if k.lower() == kind), None)
    if api_kind is None:
        raise ShellError(f"kubectl describe: only Service, NetworkPolicy, {', '.join(DESCRIBED)} "
                         "are described here "
                         "(the object tree's details show the rest)")
    text = describe_gateway_api(shell.cluster, api_kind, args.namespace, name)
    if not text:
        raise ShellError(f'Error from server (NotFound): {kind}s "{name}" not found')
    return ShellResult(text)


async def run(shell, call: Call) -> ShellResult:
    p = parser("kubectl run")
    p.add_argument("name")
    p.add_argument("--image", required=True)
    p.add_argument("--port", type=PORT)   # a StringVar in kubectl: given twice, the last wins
    p.add_argument("--labels")
    p.add_argument("--overrides")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    ports = [ContainerPort(args.port)] if args.port else []
    labels = _labels(args.labels) or {"run": args.name}
    await shell.cluster.add_pod(args.name, [Container(args.name, args.image, ports)],
                                namespace=args.namespace, labels=labels,
                                **_overrides(args.overrides))
    return ShellResult(f"pod/{args.name} created\n", changed=True,
                       created=f"pod/{args.namespace}/{args.name}")


async def create_deployment(shell, call: Call) -> ShellResult:
    p = parser("kubectl create deployment")
    p.add_argument("name")
    p.add_argument("--image", required=True)
    p.add_argument("--replicas", type=REPLICAS, default=1)
    p.add_argument("--port", type=PORT)
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    ports = [ContainerPort(args.port)] if args.port else []
    # kubectl names the container after the image: registry/nginx:1.27 -> nginx
    container = Container(args.image.rsplit("/", 1)[-1].split(":")[0].split("@")[0],
                          args.image, ports)
    await shell.cluster.add_deployment(args.name, [container], args.replicas,
                                       namespace=args.namespace)
    return ShellResult(f"deployment.apps/{args.name} created\n", changed=True,
                       created=f"deploy/{args.namespace}/{args.name}")


SERVICE_TYPES = {"clusterip": "ClusterIP", "nodeport": "NodePort",
                 "loadbalancer": "LoadBalancer"}


async def create_service(shell, call: Call) -> ShellResult:
    words = call.args
    if not words or words[0] not in SERVICE_TYPES:
        raise ShellError("kubectl create service: clusterip, nodeport or loadbalancer")
    p = parser(f"kubectl create service {words[0]}")
    p.add_argument("name")
    p.add_argument("--tcp", action="append", required=True, metavar="PORT[:TARGET]")
    p.add_argument("--node-port", type=argument(0, 65535))
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(words[1:])
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
    await shell.cluster.add_service(args.name, ports, namespace=args.namespace,
                                    selector={"app": args.name}, type=SERVICE_TYPES[words[0]])
    return ShellResult(f"service/{args.name} created\n", changed=True,
                       created=f"svc/{args.namespace}/{args.name}")


async def create_ingress(shell, call: Call) -> ShellResult:
    p = parser("kubectl create ingress")
    p.add_argument("name")
    p.add_argument("--rule", action="append", default=[], metavar="HOST/PATH=SERVICE:PORT")
    p.add_argument("--default-backend", metavar="SERVICE:PORT")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    if not args.rule and not args.default_backend:
        raise ShellError("kubectl create ingress: give at least one --rule or "
                         "--default-backend")
    rules: dict[str | None, IngressRule] = {}
    for text in args.rule:
        host, path = _ingress_rule(text)
        rules.setdefault(host, IngressRule([], host)).paths.append(path)
    default = _backend(args.default_backend) if args.default_backend else None
    ingress = Ingress(ObjectMeta(args.name, args.namespace), list(rules.values()), default)
    await shell.cluster.add_ingress(ingress)
    return ShellResult(f"ingress.networking.k8s.io/{args.name} created\n", changed=True,
                       created=f"ing/{args.namespace}/{args.name}")


async def set_selector(shell, call: Call) -> ShellResult:
    p = parser("kubectl set selector")
    p.add_argument("target", nargs="+")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    *target, selector = args.target
    kind, name = kind_and_name(target)
    if kind != "service":
        raise ShellError("kubectl set selector: only Services here")
    await shell.cluster.update_service(name, args.namespace, selector=_labels(selector))
    return ShellResult(f"service/{name} selector updated\n", changed=True)


async def set_image(shell, call: Call) -> ShellResult:
    p = parser("kubectl set image")
    p.add_argument("target", nargs="+")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    split = 1 if "/" in args.target[0] else 2
    kind, name = kind_and_name(args.target[:split])
    if kind != "deployment":
        raise ShellError("kubectl set image: only deployments here")
    images = {}
    for pair in args.target[split:]:
        container, sep, image = pair.partition("=")
        if not sep or not container or not image:
            raise ShellError(f"kubectl set image: {pair}: write CONTAINER=IMAGE")
        images[container] = image
    if not images:
        raise ShellError("kubectl set image: at least one image update is required")
    await shell.cluster.set_image(name, images, args.namespace)
    return ShellResult(f"deployment.apps/{name} image updated\n", changed=True)


ROLLOUT_VERBS = ("status", "history", "undo")


async def rollout(shell, call: Call) -> ShellResult:
    words = call.args
    if not words or words[0] not in ROLLOUT_VERBS:
        raise ShellError("kubectl rollout: status, history or undo")
    p = parser(f"kubectl rollout {words[0]}")
    p.add_argument("target", nargs="+")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-w", "--watch", default="true", choices=["true", "false"])
    p.add_argument("--to-revision", type=argument(0, 2**31 - 1), default=0)
    args = p.parse_args(words[1:])
    kind, name = kind_and_name(args.target)
    if kind != "deployment":
        raise ShellError(f"kubectl rollout {words[0]}: only deployments here")
    if words[0] == "status":
        return ShellResult(await shell.cluster.rollout_status(
            name, args.namespace, watch=args.watch == "true"), changed=True)
    if words[0] == "history":
        return ShellResult(shell.cluster.rollout_history(name, args.namespace))
    if args.to_revision < 0:
        raise ShellError("kubectl rollout undo: --to-revision must be 0 or more")
    return ShellResult(await shell.cluster.rollout_undo(name, args.namespace,
                                                        args.to_revision), changed=True)


async def patch(shell, call: Call) -> ShellResult:
    p = parser("kubectl patch")
    p.add_argument("target", nargs="+")
    p.add_argument("-p", "--patch", required=True)
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    kind, name = kind_and_name(args.target)
    if kind == "deployment":
        try:
            data = json.loads(args.patch)
        except ValueError as error:
            raise ShellError(f"kubectl patch: the patch is not JSON ({error})") from None
        current = shell.cluster.find_deployment(name, args.namespace)
        await shell.cluster.update_deployment(name, args.namespace,
                                              **patch_changes(current, data))
        return ShellResult(f"deployment.apps/{name} patched\n", changed=True)
    if kind == "kubeproxyconfiguration":
        await shell.cluster.update_proxy_config(name, args.namespace,
                                                **_proxy_config_patch(args.patch))
        return ShellResult(f"kubeproxyconfiguration.kubeproxy.config.k8s.io/{name} patched\n",
                           changed=True)
    if kind != "service":
        raise ShellError("kubectl patch: only Services, Deployments and the "
                         "KubeProxyConfiguration here")
    await shell.cluster.update_service(name, args.namespace, **_service_patch(args.patch))
    return ShellResult(f"service/{name} patched\n", changed=True)


async def expose(shell, call: Call) -> ShellResult:
    p = parser("kubectl expose")
    p.add_argument("target", nargs="+")
    p.add_argument("--port", type=PORT, required=True)
    p.add_argument("--target-port")
    p.add_argument("--type", default="ClusterIP")
    p.add_argument("--name")
    p.add_argument("--protocol", default="TCP")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    kind, name = kind_and_name(args.target)
    api = shell.cluster.api
    if kind == "deployment":
        found = api.peek("Deployment", args.namespace, name)
        selector = dict(found.selector) if found else None
    elif kind == "pod":
        found = api.peek("Pod", args.namespace, name)
        selector = dict(found.metadata.labels) if found else None
    else:
        raise ShellError("kubectl expose: expose a deployment or a pod")
    if selector is None:
        raise ShellError(f'{kind} "{name}" not found in namespace "{args.namespace}"')
    target = args.target_port
    target = port_or_name(target, "--target-port") if target else None
    service_name = args.name or name
    await shell.cluster.add_service(
        service_name, [ServicePort(args.port, target or args.port, args.protocol.upper())],
        namespace=args.namespace, selector=selector, type=args.type)
    return ShellResult(f"service/{service_name} exposed\n", changed=True,
                       created=f"svc/{args.namespace}/{service_name}")


async def scale(shell, call: Call) -> ShellResult:
    p = parser("kubectl scale")
    p.add_argument("target", nargs="+")
    p.add_argument("--replicas", type=REPLICAS, required=True)
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    kind, name = kind_and_name(args.target)
    if kind == "statefulset":
        await shell.cluster.scale_stateful_set(name, args.replicas, args.namespace)
        return ShellResult(f"statefulset.apps/{name} scaled\n", changed=True)
    if kind != "deployment":
        raise ShellError("kubectl scale: only deployments and statefulsets scale here")
    await shell.cluster.scale(name, args.replicas, args.namespace)
    return ShellResult(f"deployment.apps/{name} scaled\n", changed=True)


async def delete(shell, call: Call) -> ShellResult:
    p = parser("kubectl delete")
    p.add_argument("target", nargs="+")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    kind, name = kind_and_name(args.target)
    action = KINDS[kind].delete
    if action is None:
        raise ShellError(f"kubectl delete: {kind}s cannot be deleted here")
    await action(shell.cluster, name, args.namespace)
    shown = {"deployment": "deployment.apps",
             "networkpolicy": "networkpolicy.networking.k8s.io"}.get(kind, kind)
    return ShellResult(f'{shown} "{name}" deleted\n', changed=True)


def _node_name(command: str, words: list[str]) -> str:
    """`kind-worker` or `node/kind-worker`, as kubectl takes a node."""
    if len(words) != 1:
        raise ShellError(f"{command}: name one node (kubectl {command} NODE)")
    kind, sep, name = words[0].rpartition("/")
    if sep and kind not in ("node", "nodes", "no"):
        raise ShellError(f"{command}: only nodes are {command}ed")
    return name


async def cordon_node(shell, call: Call, wanted: bool = True) -> ShellResult:
    command = "cordon" if wanted else "uncordon"
    p = parser(f"kubectl {command}")
    p.add_argument("node", nargs="+")
    args = p.parse_args(call.args)
    try:
        text = await cordon(shell.cluster, _node_name(command, args.node), wanted)
    except DrainError as error:
        raise ShellError(str(error)) from None
    return ShellResult(text + "\n", changed=not text.split(" ", 1)[1].startswith("already"))


async def drain_node(shell, call: Call) -> ShellResult:
    p = parser("kubectl drain")
    p.add_argument("node", nargs="+")
    p.add_argument("--ignore-daemonsets", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--delete-emptydir-data", action="store_true")   # the lab has no volumes
    args = p.parse_args(call.args)
    try:
        text, _ = await drain(shell.cluster, _node_name("drain", args.node),
                              args.ignore_daemonsets, args.force)
    except DrainError as error:
        raise ShellError(str(error)) from None
    return ShellResult(text + "\n", changed=True)


async def label(shell, call: Call) -> ShellResult:
    p = parser("kubectl label")
    p.add_argument("words", nargs="+")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(call.args)
    words = args.words
    split = 1 if "/" in words[0] else 2
    kind, name = kind_and_name(words[:split])
    if kind != "node":
        raise ShellError("kubectl label: only nodes are labelled here")
    if not words[split:]:
        raise ShellError("kubectl label: give at least one KEY=VALUE or KEY-")
    try:
        text = await label_node(shell.cluster, name, words[split:], args.overwrite)
    except DrainError as error:
        raise ShellError(str(error)) from None
    return ShellResult(text + "\n", changed=True)


async def create_from_files(shell, call: Call) -> ShellResult:
    p = parser("kubectl create")
    p.add_argument("-f", "--filename", action="append", required=True)
    args = p.parse_args(call.args)
    await apply_files(shell.cluster, args.filename, create=True)
    return ShellResult(f"created {', '.join(args.filename)}\n", changed=True)


def _one_as_yaml(cluster: Cluster, kind: Kind, args) -> str:
    """kubectl get KIND NAME -o yaml: the lab writes YAML of ConfigMaps only."""
    if kind.name != "configmap" or args.output != "yaml" or args.name is None:
        raise ShellError("kubectl get: NAME and -o yaml go together, for a configmap "
                         "(kubectl get configmap NAME -n NS -o yaml)")
    found = cluster.api.peek("ConfigMap", args.namespace, args.name)
    if found is None:
        raise ShellError(f'Error from server (NotFound): configmaps "{args.name}" not found')
    return configmap_yaml(found)


def describe_config_map(shell, call: Call) -> ShellResult:
    p = parser("kubectl describe configmap")
    p.add_argument("name")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    found = shell.cluster.api.peek("ConfigMap", args.namespace, args.name)
    if found is None:
        raise ShellError(f'Error from server (NotFound): configmaps "{args.name}" not found')
    return ShellResult(describe_configmap(found))


def describe_policy(shell, call: Call) -> ShellResult:
    p = parser("kubectl describe networkpolicy")
    p.add_argument("name")
    p.add_argument("-n", "--namespace", default="default")
    args = p.parse_args(call.args)
    cluster = shell.cluster
    policy = cluster.api.peek("NetworkPolicy", args.namespace, args.name)
    if policy is None:
        raise ShellError(f'networkpolicies.networking.k8s.io "{args.name}" not found')
    return ShellResult(network_policy_text(policy, PolicyView.from_api(cluster.api),
                                cluster.policy.status(), cluster.cni.name))


async def apply(shell, call: Call) -> ShellResult:
    p = parser("kubectl apply")
    p.add_argument("-f", "--filename", action="append", required=True)
    args = p.parse_args(call.args)
    await apply_files(shell.cluster, args.filename)
    return ShellResult(f"applied {', '.join(args.filename)}\n", changed=True)


# completion

def flags(cluster: Cluster, args: list[str]) -> list[str]:
    return list(FLAGS)


def names_of_kind(cluster: Cluster, args: list[str]) -> list[str]:
    """After KIND: the names of that kind's objects."""
    kind = KINDS.get(args[-1]) if args else None
    return kind.names(cluster) if kind is not None else []


def object_of(*kind_names: str):
    return positional(list(kind_names), names_of_kind, then=flags)


def node_names(cluster: Cluster, args: list[str]) -> list[str]:
    """kubectl cordon/drain NODE: the node names first, then the flags."""
    return [n.name for n in cluster.nodes()] if not args else list(FLAGS)


GET_KINDS = [kind.spellings[0] for kind in KIND_LIST if kind.table is not None]

TITLE = "On the API objects, as kubectl does"
COMMANDS = (
    Command("kubectl run", "NAME --image=IMAGE [--port=N] [--labels=k=v] "
            "[--overrides='{\"spec\":{\"nodeName\":\"NODE\"}}']",
            "a pod; --overrides puts it on that node", run, complete=flags),
    Command("kubectl create deployment", "NAME --image=IMAGE [--replicas=N] [--port=N]",
            "pods kept at a replica count", create_deployment, complete=flags,
            aliases={"deployment": ("deploy",)}),
    Command("kubectl create service", "clusterip|nodeport|loadbalancer NAME "
            "--tcp=PORT[:TARGET]", "a Service selecting app=NAME (kubectl set selector "
            "changes that)", create_service,
            complete=positional(list(SERVICE_TYPES), then=flags),
            aliases={"service": ("svc",)}),
    Command("kubectl create ingress", "NAME --rule=HOST/PATH*=SERVICE:PORT",
            "HTTP routing by host and path (* ends a prefix), as ingress-nginx (retired in "
            "March 2026: Gateway API is the successor) does it", create_ingress,
            complete=flags, aliases={"ingress": ("ing",)}),
    Command("kubectl expose", "deployment NAME --port=N [--target-port=N] "
            "[--type=LoadBalancer]", "a Service for a Deployment's or a pod's labels",
            expose, complete=object_of("deployment", "pod")),
    Command("kubectl set selector", "service NAME k=v[,k=v]", "which pods a Service selects",
            set_selector, complete=object_of("service")),
    Command("kubectl set image", "deployment/NAME CONTAINER=IMAGE",
            "change a Deployment's image: a rollout", set_image,
            complete=object_of("deployment")),
    Command("kubectl rollout", "status|history|undo deployment/NAME [--to-revision=N]",
            "follow, list or undo a Deployment's rollouts", rollout,
            complete=positional(list(ROLLOUT_VERBS), then=flags)),
    Command("kubectl patch", "service|deployment NAME -p '{\"spec\":{\"externalTrafficPolicy\":"
            "\"Local\"}}'", "change a Service's policies or selector in place, or a "
            "Deployment's spec (a new template rolls out)", patch,
            complete=object_of("service", "deployment")),
    Command("kubectl scale", "deployment|statefulset NAME --replicas=N",
            "change a replica count", scale, complete=object_of("deployment", "statefulset")),
    Command("kubectl delete", "pod|deployment|service|ingress|networkpolicy|gateway|httproute|"
            "node|ipaddresspool NAME", "remove an object", delete,
            complete=object_of("pod", "deployment", "service", "ingress", "networkpolicy",
                               "node")),
    Command("kubectl cordon", "NODE", "mark a node unschedulable (its pods stay)",
            cordon_node, complete=node_names),
    Command("kubectl uncordon", "NODE", "let pods be scheduled on the node again",
            functools.partial(cordon_node, wanted=False), complete=node_names),
    Command("kubectl drain", "NODE [--ignore-daemonsets] [--force]", "cordon the node and "
            "evict its pods (never DaemonSet pods)", drain_node, complete=node_names),
    Command("kubectl label", "node NAME KEY=VALUE|KEY- [--overwrite]",
            "set or remove a node's labels", label, complete=object_of("node")),
    Command("kubectl describe networkpolicy", "NAME [-n NS]",
            "a NetworkPolicy's rules, the pods it selects, whether this CNI enforces it",
            describe_policy, complete=object_of("networkpolicy"),
            aliases={"networkpolicy": ("netpol", "networkpolicies")}),
    Command("kubectl describe configmap", "NAME [-n NS]",
            "a ConfigMap's data, as kubectl describes it", describe_config_map,
            complete=object_of("configmap"), aliases={"configmap": ("cm", "configmaps")}),
    Command("kubectl get", "|".join(GET_KINDS) + " [-o wide] [-A] [--show-labels]"
            " | configmap NAME -o yaml",
            "list objects as kubectl does", get, complete=positional(GET_KINDS, then=flags)),
    Command("kubectl describe", "service|gatewayclass|gateway|httproute|referencegrant NAME "
            "[-n NAMESPACE]", "the object, its status conditions and Events (a load "
            "balancer's address, or why it is pending)", describe,
            complete=object_of("service", "gatewayclass", "gateway", "httproute",
                               "referencegrant")),
    Command("kubectl apply", "-f FILE", "create the objects of a YAML manifest", apply,
            complete=choices("-f")),
    Command("kubectl create", "-f FILE", "create the objects of a YAML manifest; one "
            "already there is refused (apply changes it)", create_from_files,
            complete=choices("-f")),
)
