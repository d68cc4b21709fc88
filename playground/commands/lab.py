"""The lab as a whole on the `:` line: nodes joining and leaving, a new lab, and the app's
own commands on lab files and lessons (the app runs those; the shell has no files)."""

from __future__ import annotations

from playground.cluster.controllers.node_lifecycle import TOLERATION_SECONDS
from playground.cluster.lab import build_default_lab
from playground.commands.base import Call, Command, ShellResult, choices, parser, positional
from playground.commands.kubectl import KINDS
from playground.numbers import SEED
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES


async def node_add(shell, call: Call) -> ShellResult:
    p = parser("node add")
    p.add_argument("name")
    p.add_argument("--control-plane", action="store_true")
    args = p.parse_args(call.args)
    node = await shell.cluster.add_node(args.name, control_plane=args.control_plane)
    return ShellResult(f"node/{node.name} joined: {node.status.internal_ip}, pod CIDR "
                       f"{node.spec.pod_cidr}\n", changed=True, created=f"node/{node.name}")


async def node_remove(shell, call: Call) -> ShellResult:
    p = parser("node remove")
    p.add_argument("name")
    args = p.parse_args(call.args)
    await shell.cluster.remove_node(args.name)
    return ShellResult(f'node "{args.name}" removed\n', changed=True)


def node_condition(ready: bool):
    """`node ready|notready NAME`: its kubelet reports the node Ready or NotReady."""
    async def mark(shell, call: Call) -> ShellResult:
        p = parser("node ready" if ready else "node notready")
        p.add_argument("name")
        args = p.parse_args(call.args)
        await shell.cluster.mark_node(args.name, ready)
        shown = "Ready" if ready else ("NotReady; its pods are evicted after "
                                       f"{TOLERATION_SECONDS} s of lab time (sleep N)")
        return ShellResult(f"node/{args.name} is {shown}\n", changed=True)
    return mark


async def sleep(shell, call: Call) -> ShellResult:
    p = parser("sleep")
    p.add_argument("seconds", type=float)
    args = p.parse_args(call.args)
    await shell.cluster.advance(args.seconds)
    return ShellResult(f"{args.seconds:g} s of lab time passed\n", changed=True)


async def lab_new(shell, call: Call) -> ShellResult:
    p = parser("lab new")
    p.add_argument("--cni", choices=sorted(CNI_PLUGINS), default="bridge")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--proxy-mode", choices=list(PROXY_MODES), default="iptables")
    p.add_argument("--lb", choices=list(LB_PROVIDERS), default="cloud")
    args = p.parse_args(call.args)
    fresh = await build_default_lab(cni=args.cni, seed=args.seed, proxy_mode=args.proxy_mode,
                                    lb=args.lb)
    await shell.cluster.stop()
    shell.cluster, shell.last = fresh, None
    return ShellResult(f"a new default lab: CNI {args.cni}, seed {args.seed}, kube-proxy "
                       f"in {args.proxy_mode} mode, load balancers by {args.lb}\n",
                       changed=True, replaced=True)


TITLE = "The lab as a whole"
COMMANDS = (
    Command("node add", "NAME [--control-plane]", "a new node joins the node network",
            node_add, complete=positional([], then=choices("--control-plane"))),
    Command("node remove", "NAME", "a node leaves; its Deployments' pods start elsewhere",
            node_remove, complete=positional(lambda cluster, args: KINDS["node"].names(cluster)),
            aliases={"remove": ("delete",)}),
    Command("node notready", "NAME", "its kubelet reports NotReady: tainted, pods evicted "
            f"after {TOLERATION_SECONDS} s", node_condition(False),
            complete=positional(lambda cluster, args: KINDS["node"].names(cluster))),
    Command("node ready", "NAME", "its kubelet reports Ready again", node_condition(True),
            complete=positional(lambda cluster, args: KINDS["node"].names(cluster))),
    Command("sleep", "SECONDS", "let lab time pass (grace periods, evictions, rollouts)",
            sleep),
    Command("lab new", "[--cni " + "|".join(CNI_PLUGINS) + "] [--seed N] "
            "[--proxy-mode " + "|".join(PROXY_MODES) + "] [--lb " + "|".join(LB_PROVIDERS)
            + "]", "start again from the default lab",
            lab_new, complete=choices("--cni", *CNI_PLUGINS, "--seed", "--proxy-mode",
                                      *PROXY_MODES, "--lb", *LB_PROVIDERS)),
    Command("save", "[FILE]", "save the lab (to its file, or FILE)", None),
    Command("open", "FILE", "open a lab file, e.g. one of saves/", None),
    Command("lesson", "ID", "start a guided lab (ctrl+l lists them)", None),
)
