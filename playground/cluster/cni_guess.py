"""Which CNI a real cluster runs, guessed from its pods and nodes the way a person would:
kindnet's, flannel's, Cilium's or Calico's DaemonSet pods, or the annotations each writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guess:
    found: str        # what the cluster seems to run ("" when nothing was recognised)
    plugin: str       # the lab's CNI plugin that models it
    note: str = ""    # a line for the user when the model is not that CNI


# (name, the lab's plugin, pod-name prefixes, annotation key prefixes on pods or nodes)
SIGNS = (
    ("cilium", "cilium", ("cilium-",), ("io.cilium", "network.cilium.io")),
    ("flannel", "vxlan", ("kube-flannel-", "flannel-"), ("flannel.alpha.coreos.com",)),
    ("calico", "", ("calico-node-",), ("cni.projectcalico.org", "projectcalico.org")),
    ("kindnet", "ptp", ("kindnet-",), ()),
)


def guess_cni(pods: list[dict], nodes: list[dict]) -> Guess:
    def annotated(item: dict, prefixes: tuple[str, ...]) -> bool:
        keys = (item.get("metadata") or {}).get("annotations") or {}
        return bool(prefixes) and any(str(k).startswith(prefixes) for k in keys)

    for name, plugin, pod_prefixes, keys in SIGNS:
        named = any(str((p.get("metadata") or {}).get("name", "")).startswith(pod_prefixes)
                    for p in pods)
        if named or any(annotated(item, keys) for item in [*pods, *nodes]):
            if plugin:
                return Guess(name, plugin)
            return Guess(name, "bridge", f"cni: {name} is not modelled (no BGP, no IP-in-IP); "
                                         "the lab wires the pods with the bridge plugin")
    return Guess("", "bridge", "cni: none of kindnet, flannel, cilium or calico found among "
                               "the pods and annotations; the lab uses the bridge plugin")
