"""Cilium's security identities: a pod's identity is the number of its label set, the same
for every pod with the same labels, cluster-wide (pkg/identity, pkg/labels).

The label set: the pod's own labels that are identity-relevant (the default filter drops
io.kubernetes*, *kubernetes.io, k8s.io and hash labels), its namespace as
k8s:io.kubernetes.pod.namespace, its namespace's labels under
io.cilium.k8s.namespace.labels., its service account and the cluster's name. Numbers are
allocated from 256 up at random, as the CRD allocator picks a free one; here the pick is
seeded by the label set, so a lab gets the same numbers every time.
"""

from __future__ import annotations

import hashlib
import random
from ipaddress import IPv4Network

from playground.net.bpf.ipcache import (
    FIRST_CLUSTER_IDENTITY,
    KUBE_APISERVER,
    REMOTE_NODE,
    RESERVED,
    WORLD,
)

SOURCE = "k8s"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount"
CLUSTER = "io.cilium.k8s.policy.cluster"
CLUSTER_NAME = "default"
LAST_CLUSTER_IDENTITY = 65535  # cluster ID 0: identities fit in 16 bits
LOCAL_IDENTITY_FLAG = 1 << 24  # CIDR identities are node-local, with this bit set
# label keys the default identity-relevant filter leaves out (labelsfilter defaults)
IGNORED_PREFIXES = ("io.kubernetes", "kubernetes.io", "beta.kubernetes.io", "k8s.io",
                    "pod-template-generation", "pod-template-hash",
                    "controller-revision-hash", "annotation.", "etcd_node")


def relevant(key: str) -> bool:
    return not key.startswith(IGNORED_PREFIXES)


def pod_labels(labels: dict[str, str], namespace: str, namespace_labels: dict[str, str],
               service_account: str) -> tuple[str, ...]:
    """The sorted `source:key=value` labels of a pod's identity."""
    chosen = {key: value for key, value in labels.items() if relevant(key)}
    chosen[NAMESPACE_LABEL] = namespace
    chosen.update({NAMESPACE_LABELS + key: value for key, value in namespace_labels.items()})
    chosen[SERVICE_ACCOUNT] = service_account or "default"
    chosen[CLUSTER] = CLUSTER_NAME
    return tuple(sorted(f"{SOURCE}:{key}={value}" for key, value in chosen.items()))


def split(labels: tuple[str, ...]) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """An identity's labels back as (pod labels, namespace, namespace labels)."""
    pod, namespace_labels, namespace = {}, {}, None
    for label in labels:
        source, _, rest = label.partition(":")
        key, _, value = rest.partition("=")
        if source != SOURCE:
            continue
        if key == NAMESPACE_LABEL:
            namespace = value
        elif key.startswith(NAMESPACE_LABELS):
            namespace_labels[key[len(NAMESPACE_LABELS):]] = value
        elif key not in (SERVICE_ACCOUNT, CLUSTER):
            pod[key] = value
    return pod, namespace, namespace_labels


class IdentityAllocator:
    """Cluster-wide: label set ↔ number, shared by every node's agent (the CRD store)."""

    def __init__(self) -> None:
        self.by_labels: dict[tuple[str, ...], int] = {}
        self.labels: dict[int, tuple[str, ...]] = {number: (label,)
                                                   for number, label in RESERVED.items()}
        self.labels[KUBE_APISERVER] = (RESERVED[KUBE_APISERVER], RESERVED[REMOTE_NODE])
        self.cidrs: dict[IPv4Network, int] = {}

    def allocate(self, labels: tuple[str, ...]) -> int:
        known = self.by_labels.get(labels)
        if known is not None:
            return known
        seed = int.from_bytes(hashlib.sha256("\n".join(labels).encode()).digest()[:8], "big")
        pick = random.Random(seed)
        while True:
            number = pick.randint(FIRST_CLUSTER_IDENTITY, LAST_CLUSTER_IDENTITY)
            if number not in self.labels:
                break
        self.by_labels[labels] = number
        self.labels[number] = labels
        return number

    def release_unused(self, in_use: set[int]) -> None:
        """Identities no pod has any more go (the operator's garbage collection)."""
        for labels, number in list(self.by_labels.items()):
            if number not in in_use:
                del self.by_labels[labels]
                del self.labels[number]

    def cidr(self, prefix: IPv4Network) -> int:
        """A local CIDR identity for a prefix a policy names; 0.0.0.0/0 is the world."""
        if prefix.prefixlen == 0:
            return WORLD
        known = self.cidrs.get(prefix)
        if known is None:
            known = LOCAL_IDENTITY_FLAG | (len(self.cidrs) + 1)
            self.cidrs[prefix] = known
            self.labels[known] = (f"cidr:{prefix}", "reserved:world")
        return known

    def labels_of(self, number: int) -> list[str]:
        return list(self.labels.get(number, ()))
