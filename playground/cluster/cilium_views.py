"""`cilium …` views of a node's BPF maps, as the cilium agent's CLI prints them."""

from __future__ import annotations

from playground.cluster.cluster import Cluster, ClusterError
from playground.net.bpf.program import listing

VIEWS = ("bpf lb list", "bpf ct list global", "bpf nat list", "bpf tunnel list",
         "service list")


def cilium_view(cluster: Cluster, ns_name: str, words: list[str]) -> str:
    """The output of `cilium WORDS` on the node whose root namespace is `ns_name`."""
    asked = " ".join(words)
    if asked not in VIEWS:
        raise ClusterError(f"cilium {asked}: not modelled here; try "
                           + ", ".join(f"cilium {view}" for view in VIEWS))
    datapath = datapath_of(cluster, ns_name)
    if asked == "bpf lb list":
        return datapath.lb.lb_list()
    if asked == "service list":
        return datapath.lb.service_list()
    if asked == "bpf ct list global":
        return datapath.ct.listing()
    if asked == "bpf tunnel list":
        return datapath.tunnel_list()
    return datapath.snat.listing(cluster.network.clock)


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
    for view in VIEWS:
        if view == "bpf tunnel list" and not datapaths[node].tunnel:
            continue  # native routing has no tunnel map worth a section
        parts.append(f"# cilium {view}    ({node})\n"
                     + (cilium_view(cluster, node, view.split()) or "(empty)\n"))
    return "\n".join(parts)
