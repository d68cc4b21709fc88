"""`cilium …` views of a node's BPF maps, as the cilium agent's CLI prints them."""

from __future__ import annotations

from playground.cluster.cluster import Cluster, ClusterError

VIEWS = ("bpf lb list", "bpf ct list global", "bpf nat list", "service list")


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
