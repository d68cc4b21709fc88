"""The tools a learner runs on a node or a pod (the one selected in the app, the TARGET of
`k8s-playground show`): iproute2, iptables-save, conntrack, sysctl, and the Cilium and
IPVS views. Their output is the real tool's."""

from __future__ import annotations

from playground.cluster.cilium_views import VIEWS as CILIUM_VIEWS
from playground.cluster.cilium_views import cilium_view
from playground.cluster.cluster import Cluster
from playground.commands.base import (
    Call,
    Cli,
    Command,
    ShellError,
    ShellResult,
    choices,
    parser,
    positional,
)
from playground.net.iplink import bridge_fdb_show, ip_link_show, ip_neigh_show
from playground.net.iproute import ip_route_change
from playground.net.ipvsadm import ipset, ipvsadm
from playground.net.nftables import NftError
from playground.net.nftables.tool import nft
from playground.net.route import RouteError
from playground.proxy.ipvs_state import IPSETS
from playground.timefmt import iptables_date

IP_ONLY = ("ip: only `ip route` (show, add, del), `ip -d link show NAME` and `ip neigh show` "
           "are modelled here")
ROUTE = {"route": ("r", "ro")}


def _dev_option(command: str, words: list[str]) -> str | None:
    if not words:
        return None
    if len(words) == 2 and words[0] == "dev":
        return words[1]
    raise ShellError(f"{command}: the only option modelled here is `dev NAME`")


def ip_route(shell, call: Call) -> ShellResult:
    if call.args not in ([], ["show"]):
        raise ShellError(IP_ONLY)
    return ShellResult(shell.namespace(call).ip_route())


def ip_route_edit(shell, call: Call) -> ShellResult:
    try:
        ip_route_change(shell.namespace(call), call.words[2], call.args)
    except RouteError as error:
        raise ShellError(str(error)) from None
    return ShellResult(changed=True)


def _link(call: Call) -> str:
    if len(call.args) == 1:
        return call.args[0]
    if len(call.args) == 2:
        if call.args[0] != "dev":
            raise ShellError("ip link: write it as ip [-d] link show [dev] NAME")
        return call.args[1]
    raise ShellError(IP_ONLY)


def ip_link(shell, call: Call) -> ShellResult:
    name = _link(call)
    details = call.words[1] in ("-d", "-details")
    return ShellResult(ip_link_show(shell.namespace(call), name, details))


def ip_neigh(shell, call: Call) -> ShellResult:
    if call.args[:1] not in ([], ["show"]):
        raise ShellError(IP_ONLY)
    dev = _dev_option("ip neigh", call.args[1:])
    return ShellResult(ip_neigh_show(shell.namespace(call), dev))


def bridge_fdb(shell, call: Call) -> ShellResult:
    dev = _dev_option("bridge fdb show", call.args)
    return ShellResult(bridge_fdb_show(shell.namespace(call), dev))


def iptables_save(shell, call: Call) -> ShellResult:
    p = parser("iptables-save")
    p.add_argument("-t", "--table", choices=["raw", "mangle", "nat", "filter"])
    p.add_argument("-c", "--counters", action="store_true")
    args = p.parse_args(call.args)
    ns = shell.namespace(call)
    return ShellResult(ns.netfilter.save([args.table] if args.table else None,
                                         counters=args.counters,
                                         when=iptables_date(shell.cluster.network.clock)))


def nft_tool(shell, call: Call) -> ShellResult:
    try:
        output, changed = nft(shell.namespace(call).nft, call.words[1:])
    except NftError as error:
        raise ShellError(str(error)) from None
    return ShellResult(output, changed=changed)


def nft_words(cluster: Cluster, args: list[str]) -> list[str]:
    words = [word for word in args if not word.startswith("-")]
    if not words:
        return ["list", "-a", "-j", "-f", "add", "delete", "flush", "insert"]
    if words[0] == "list" and len(words) == 1:
        return ["ruleset", "tables", "table", "chain", "set", "map"]
    return []


def _nft_command(verb: str, help_text: str) -> Command:
    return Command(f"nft {verb}", "...", help_text, nft_tool, selection=True, replayed=True,
                   complete=choices("table", "chain", "rule", "set", "map", "element"))


def conntrack(shell, call: Call) -> ShellResult:
    if call.args:
        raise ShellError("conntrack: only `conntrack -L` is modelled here")
    table = shell.namespace(call).conntrack
    return ShellResult(table.listing() + table.summary(len(table)) + "\n")


def sysctl(shell, call: Call) -> ShellResult:
    if len(call.args) != 1:
        raise ShellError("sysctl: write it as sysctl -w KEY=VALUE")
    key, value = shell.namespace(call).write_sysctl(call.args[0])
    return ShellResult(f"{key} = {value}\n", changed=True)


def cilium(shell, call: Call) -> ShellResult:
    return ShellResult(cilium_view(shell.cluster, shell.namespace(call).name, call.args))


def ipvs(shell, call: Call) -> ShellResult:
    return ShellResult(ipvsadm(shell.namespace(call), call.args, shell.cluster.network.clock))


def ipsets(shell, call: Call) -> ShellResult:
    return ShellResult(ipset(shell.namespace(call), call.args))


def cilium_words(cluster: Cluster, args: list[str]) -> list[str]:
    """The next word of the views that start with what was typed."""
    found = []
    for view in CILIUM_VIEWS:
        words = view.split()
        if words[:len(args)] == args and len(words) > len(args) and \
                words[len(args)] not in found:
            found.append(words[len(args)])
    return found


def _target(help_text: str):
    return lambda parser: parser.add_argument("target", help=help_text)


def _with(*adders):
    def arguments(parser) -> None:
        for add in adders:
            add(parser)
    return arguments


NODE_OR_POD, NODE = "node/NAME or pod/NAME", "node/NAME"

TITLE = "On the selected node or pod"
COMMANDS = (
    Command("ip route", "[show]", "the routing table", ip_route, selection=True,
            aliases=ROUTE, cli=Cli("routes", "`ip route` of a node or pod", lambda a: [],
                                   _target(NODE_OR_POD))),
    Command("ip route add", "PREFIX [via GW] [dev DEV]", "add a route", ip_route_edit,
            selection=True, replayed=True, aliases=ROUTE),
    Command("ip route del", "PREFIX [via GW] [dev DEV]", "delete a route", ip_route_edit,
            selection=True, replayed=True, aliases={**ROUTE, "del": ("delete",)}),
    Command("ip -d link show", "[dev] NAME", "a VXLAN device in detail", ip_link,
            selection=True, aliases={"-d": ("-details",), "link": ("l",)},
            cli=Cli("link", "`ip -d link show DEV` of a node's VXLAN device",
                    lambda a: [a.device], _with(
                        _target(NODE), lambda p: p.add_argument("device", nargs="?",
                                                                default="flannel.1")))),
    Command("ip link show", "[dev] NAME", "a VXLAN device", ip_link, selection=True,
            aliases={"link": ("l",)}),
    Command("ip neigh", "[show] [dev NAME]", "the neighbour (ARP) table", ip_neigh,
            selection=True, aliases={"neigh": ("n",)}, complete=choices("show"),
            cli=Cli("neigh", "`ip neigh show` of a node or pod",
                    lambda a: ["show", *(["dev", a.dev] if a.dev else [])], _with(
                        _target(NODE_OR_POD),
                        lambda p: p.add_argument("--dev", help="only this device's entries")))),
    Command("bridge fdb show", "[dev NAME]", "a bridge's or VXLAN device's forwarding table",
            bridge_fdb, selection=True,
            cli=Cli("fdb", "`bridge fdb show` of a node's VXLAN devices",
                    lambda a: ["dev", a.dev] if a.dev else [], _with(
                        _target(NODE),
                        lambda p: p.add_argument("--dev", help="only this device's entries")))),
    Command("iptables-save", "[-t TABLE] [-c]", "the netfilter rules, with -c their counters",
            iptables_save, selection=True, complete=choices("-t", "nat", "filter", "-c"),
            cli=Cli("iptables", "`iptables-save` of a node",
                    lambda a: [*(["-t", a.table] if a.table else []),
                               *(["-c"] if a.counters else [])], _with(
                        _target(NODE_OR_POD),
                        lambda p: p.add_argument("--table",
                                                 choices=["raw", "mangle", "nat", "filter"]),
                        lambda p: p.add_argument("-c", "--counters", action="store_true")))),
    Command("nft", "[-a] [-j] list ruleset|table|chain|set|map ... | -f FILE",
            "the nftables ruleset (-a handles, -j JSON); -f loads a file as one transaction",
            nft_tool, selection=True, complete=nft_words,
            cli=Cli("nft", "`nft list ruleset` of a node or pod",
                    lambda a: [*(["-a"] if a.handles else []), *(["-j"] if a.json else []),
                               "list", "ruleset"], _with(
                        _target(NODE_OR_POD),
                        lambda p: p.add_argument("--json", action="store_true",
                                                 help="libnftables JSON, as nft -j"),
                        lambda p: p.add_argument("-a", "--handles", action="store_true",
                                                 help="with each object's handle")))),
    _nft_command("add", "add a table, chain, rule, set, map or element (nft syntax)"),
    _nft_command("create", "like add, but an existing object is an error"),
    _nft_command("insert", "insert a rule at the top of a chain (or before a position)"),
    _nft_command("replace", "replace the rule with a handle"),
    _nft_command("delete", "delete a table, chain, rule (by handle), set, map or element"),
    _nft_command("flush", "empty a chain, set, map or table, or the whole ruleset"),
    Command("conntrack -L", "", "the connection tracking table", conntrack, selection=True,
            cli=Cli("conntrack", "`conntrack -L` of a node", lambda a: [],
                    _target(NODE_OR_POD), stderr_lines=1)),
    Command("sysctl -w", "KEY=VALUE", "set a kernel setting, e.g. "
            "net.bridge.bridge-nf-call-iptables=0", sysctl, selection=True, replayed=True),
    Command("cilium", "|".join(CILIUM_VIEWS), "a Cilium node's BPF maps", cilium,
            selection=True, complete=cilium_words,
            cli=Cli("cilium", "a Cilium node's BPF maps: " + ", ".join(CILIUM_VIEWS),
                    lambda a: a.view + (["--all"] if a.all else []), _with(
                        _target(NODE), lambda p: p.add_argument(
                            "view", nargs="+", metavar="WORDS",
                            help=" | ".join(CILIUM_VIEWS)),
                        lambda p: p.add_argument(
                            "--all", action="store_true",
                            help="with `bpf policy get`: every endpoint's map")))),
    Command("ipvsadm", "-Ln | -Lnc", "IPVS's virtual services, or its connections",
            ipvs, selection=True, complete=positional(["-Ln", "-Lnc"]),
            cli=Cli("ipvs", "`ipvsadm -Ln` of a node (with --proxy-mode ipvs)",
                    lambda a: ["-Lnc" if a.connections else "-Ln"], _with(
                        _target(NODE), lambda p: p.add_argument(
                            "-c", "--connections", action="store_true",
                            help="the connection entries, as `ipvsadm -Lnc`")))),
    Command("ipset", "list [SETNAME]", "kube-proxy's IP sets in IPVS mode", ipsets,
            selection=True, complete=positional(["list"], [name for name, _, _ in IPSETS]),
            cli=Cli("ipset", "`ipset list` of a node (with --proxy-mode ipvs)",
                    lambda a: ["list", *([a.name] if a.name else [])], _with(
                        _target(NODE), lambda p: p.add_argument("name", nargs="?",
                                                                help="one set only")))),
)
