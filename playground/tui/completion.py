"""Tab completion for the `:` command line, from the commands and the objects in the lab."""

from __future__ import annotations

from textual.suggester import Suggester

from playground.cluster.cluster import Cluster
from playground.cluster.dataplane import choices as dataplanes
from playground.cni import PLUGINS
from playground.proxy.ipvs_state import IPSETS

TOP = ["kubectl", "trace", "reply", "traffic", "node", "ip", "iptables-save", "conntrack",
       "sysctl", "lab", "compare", "bridge", "cilium", "ipvsadm", "ipset"]
FOLLOWING = {
    ("kubectl",): ["get", "run", "create", "expose", "scale", "delete", "apply", "set", "patch"],
    ("kubectl", "get"): ["pods", "nodes", "svc", "deployments", "ingress"],
    ("kubectl", "create"): ["deployment", "service", "ingress"],
    ("kubectl", "create", "service"): ["clusterip", "nodeport", "loadbalancer"],
    ("kubectl", "set"): ["selector"],
    ("kubectl", "set", "selector"): ["service"],
    ("kubectl", "expose"): ["deployment", "pod"],
    ("kubectl", "scale"): ["deployment"],
    ("kubectl", "delete"): ["pod", "deployment", "service", "ingress", "node"],
    ("kubectl", "patch"): ["service"],
    ("kubectl", "apply"): ["-f"],
    ("node",): ["add", "remove"],
    ("ip",): ["route", "neigh", "-d"],
    ("ip", "-d"): ["link"],
    ("ip", "-d", "link"): ["show"],
    ("bridge",): ["fdb"],
    ("bridge", "fdb"): ["show"],
    ("conntrack",): ["-L"],
    ("cilium",): ["bpf", "service"],
    ("cilium", "bpf"): ["lb", "ct", "nat"],
    ("cilium", "bpf", "lb"): ["list"],
    ("cilium", "bpf", "ct"): ["list"],
    ("cilium", "bpf", "ct", "list"): ["global"],
    ("cilium", "bpf", "nat"): ["list"],
    ("cilium", "service"): ["list"],
    ("ipvsadm",): ["-Ln", "-Lnc"],
    ("ipset",): ["list"],
    ("sysctl",): ["-w"],
    ("lab",): ["new"],
    ("compare",): dataplanes(),
}
FLAGS = {"kubectl": ["-o", "wide", "-A", "--image=", "--port=", "--replicas=", "--type=",
                     "--target-port=", "--labels=", "--tcp=", "--rule=", "-n"],
         "trace": ["--port", "--proto", "tcp", "udp", "icmp", "--host", "--path", "--size",
                   "--df"],
         "traffic": ["--count", "--port"],
         "iptables-save": ["-t", "nat", "filter", "-c"],
         "lab": ["--cni", *PLUGINS, "--seed", "--proxy-mode", "iptables", "ipvs"]}


def _names(cluster: Cluster, kind: str) -> list[str]:
    if kind == "pod":
        return [p.name for p in cluster.pods("default")]
    if kind == "deployment":
        return [d.name for d in cluster.deployments_list("default")]
    if kind == "service":
        return [s.name for s in cluster.services("default")]
    if kind == "ingress":
        return [i.name for i in cluster.ingresses("default")]
    if kind == "node":
        return [n.name for n in cluster.nodes()]
    return []


def _places(cluster: Cluster) -> list[str]:
    """Everything `trace` can start at or go to."""
    found = [f"pod/{p.name}" if p.metadata.namespace == "default" else f"pod/{p.key}"
             for p in cluster.pods()]
    found += [f"svc/{s.name}" if s.metadata.namespace == "default" else f"svc/{s.key}"
              for s in cluster.services()]
    found += [f"lb/{s.name}" for s in cluster.services() if s.status.load_balancer_ips]
    found += [f"node/{n.name}" for n in cluster.nodes()]
    return [*found, "internet"]


def candidates(words: list[str], cluster: Cluster) -> list[str]:
    """What may come next after these whole words."""
    if not words:
        return TOP
    if tuple(words) in FOLLOWING:
        return FOLLOWING[tuple(words)]
    head = words[0]
    if head in ("trace", "traffic"):
        return _places(cluster) + FLAGS[head]
    if words == ["ipset", "list"]:  # the selected node's sets are kube-proxy's
        return [name for name, _type, _comment in IPSETS]
    if head == "node" and words[1:2] == ["remove"]:
        return _names(cluster, "node")
    if head == "kubectl" and len(words) >= 3:
        kind = {"pods": "pod", "svc": "service", "deployments": "deployment"}.get(
            words[-1], words[-1])
        if words[1] in ("delete", "scale", "expose", "patch", "set") and kind in (
                "pod", "deployment", "service", "ingress", "node"):
            return _names(cluster, kind)
    return FLAGS.get(head, [])


def complete(line: str, cluster: Cluster) -> str | None:
    """The line with its last word completed, or None when nothing fits."""
    words = line.split(" ")
    last, before = words[-1], [w for w in words[:-1] if w]
    if not last:
        return None
    for word in candidates(before, cluster):
        if word.startswith(last) and word != last:
            return line[:len(line) - len(last)] + word
    return None


class CommandSuggester(Suggester):
    def __init__(self, cluster_of) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cluster_of = cluster_of  # the lab may be replaced, so ask each time

    async def get_suggestion(self, value: str) -> str | None:
        cluster = self.cluster_of()
        return complete(value, cluster) if cluster is not None else None
