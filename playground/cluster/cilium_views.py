"""`cilium …` views of a node's BPF maps, as the cilium agent's CLI prints them."""

from __future__ import annotations

from playground.cluster.cluster import Cluster, ClusterError
from playground.net.bpf.program import listing

MAP_VIEWS = ("bpf lb list", "bpf ct list global", "bpf nat list", "bpf tunnel list",
             "service list")  # what the app's BPF tab shows
AGENT_VIEWS = ("bpf ipcache list", "bpf policy get", "endpoint list", "identity list",
               "policy get")
VIEWS = MAP_VIEWS + AGENT_VIEWS
POLICY_GET = ["bpf", "policy", "get"]


def cilium_view(cluster: Cluster, ns_name: str, words: list[str]) -> str:
    """The output of `cilium WORDS` on the node whose root namespace is `ns_name`."""
    asked = " ".join(words)
    if words[:3] == POLICY_GET:
        return policy_map_view(cluster, ns_name, words[3:])
    if asked not in VIEWS:
        raise ClusterError(f"cilium {asked}: not modelled here; try "
                           + ", ".join(f"cilium {view}" for view in VIEWS))
    datapath = datapath_of(cluster, ns_name)
    if asked == "bpf ipcache list":
        return datapath.enforcement.ipcache.listing()
    if asked in AGENT_VIEWS:
        agent = agent_of(cluster, ns_name)
        return {"endpoint list": agent.endpoint_list, "identity list": agent.identity_list,
                "policy get": agent.policy_get}[asked]()
    if asked == "bpf lb list":
        return datapath.lb.lb_list()
    if asked == "service list":
        return datapath.lb.service_list()
    if asked == "bpf ct list global":
        return datapath.ct.listing()
    if asked == "bpf tunnel list":
        return datapath.tunnel_list()
    return datapath.snat.listing(cluster.network.clock)


def policy_map_view(cluster: Cluster, ns_name: str, args: list[str]) -> str:
    """`cilium bpf policy get ID` or `--all`."""
    agent = agent_of(cluster, ns_name)
    if args == ["--all"]:
        parts = [f"Endpoint ID: {number}\nPath: {path}\n\n{agent.policy_map_listing(number)}\n\n"
                 for number, path in agent.policy_maps()]
        return "".join(parts) or "no maps found\n"
    if len(args) != 1 or not args[0].isdigit():
        raise ClusterError("cilium bpf policy get: give an endpoint ID (cilium endpoint list "
                           "names them) or --all")
    listing = agent.policy_map_listing(int(args[0]))
    if listing is None:
        raise ClusterError(f"cilium bpf policy get: no endpoint {args[0]} on this node "
                           "(cilium endpoint list names them)")
    return listing


def agent_of(cluster: Cluster, ns_name: str):
    """The node's Cilium agent (its policy half), or one line saying why there is none."""
    datapath_of(cluster, ns_name)
    agent = getattr(cluster.cni, "agents", {}).get(ns_name)
    if agent is None:
        raise ClusterError(f"cilium: {ns_name} runs no Cilium agent; select a node")
    return agent


def datapath_of(cluster: Cluster, ns_name: str):
    """The Cilium datapath of a node, or one line saying why there is none."""
    datapaths = getattr(cluster.cni, "datapaths", None)
    if datapaths is None:
        raise ClusterError(f"cilium: this lab runs the {cluster.cni.name} CNI, not Cilium "
                           "(start one with --cni cilium)")
    if ns_name not in datapaths:
        raise ClusterError(f"cilium: {ns_name} runs no Cilium agent; select a node")
    return datapaths[ns_name]


def bpf_panel(cluster: Cluster, ns_name: str) -> str | None:
    """What the app's BPF tab shows for a namespace; None when the lab runs no Cilium."""
    datapaths = getattr(cluster.cni, "datapaths", None)
    if datapaths is None:
        return None
    ns = cluster.network.find(ns_name)
    if ns is None:
        return None
    parts = [f"# bpftool net show; bpftool cgroup tree    ({ns_name})\n" + listing(ns)]
    # a pod's sockets are in its node's cgroup: the node's maps decide for them too
    node = next((name for name, datapath in datapaths.items()
                 if name == ns_name or ns.cgroup is datapath.cgroup), None)
    if node is None:
        return "\n".join(parts)
    for view in MAP_VIEWS:
        if view == "bpf tunnel list" and not datapaths[node].tunnel:
            continue  # native routing has no tunnel map worth a section
        parts.append(f"# cilium {view}    ({node})\n"
                     + (cilium_view(cluster, node, view.split()) or "(empty)\n"))
    return "\n".join(parts)
