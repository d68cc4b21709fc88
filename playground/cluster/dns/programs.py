"""Which DNS server a datagram delivered to a socket reaches: the CoreDNS program in a pod
that runs CoreDNS's image, or the internet's resolver. A socket of any other program takes
the query and never answers, as a process that is not a DNS server would."""

from __future__ import annotations

import dns.message

from playground.cluster.cloud import INTERNET_NAMESPACE
from playground.cluster.dns import upstream
from playground.cluster.dns.coredns import Forward, Served
from playground.cluster.dns.resolv import DnsConfig, ResolvConf, pod_resolv_conf

COREDNS_IMAGES = ("registry.k8s.io/coredns/coredns", "coredns/coredns")
NODE_RESOLV = ResolvConf((str(upstream.RESOLVER),))  # what kind's nodes get from docker


def pod_at(cluster, namespace: str):
    if not namespace.startswith("pod/"):
        return None
    _, pod_namespace, name = namespace.split("/", 2)
    return cluster.api.peek("Pod", pod_namespace, name)


def runs_coredns(pod, owner: str) -> bool:
    return any(c.name == owner and c.image.partition(":")[0] in COREDNS_IMAGES
               for c in pod.spec.containers)


def serve(cluster, delivery, query: dns.message.Message, forward: Forward) -> Served | None:
    """The answer of the program behind the socket, or None if it is not a DNS server."""
    if delivery.namespace == INTERNET_NAMESPACE and delivery.owner == "resolver":
        return Served(upstream.answer(query), "resolver")
    pod = pod_at(cluster, delivery.namespace)
    if pod is None or not runs_coredns(pod, delivery.owner):
        return None
    return cluster.coredns.serve(delivery.namespace, query, cluster.network.clock, forward)


def resolv_conf(cluster, namespace: str) -> ResolvConf:
    """/etc/resolv.conf in a network namespace: a pod's as kubelet writes it for its
    dnsPolicy and dnsConfig, a node's or any other host's."""
    pod = pod_at(cluster, namespace)
    if pod is None:
        return NODE_RESOLV
    spec = pod.spec
    return pod_resolv_conf(spec.dns_policy, pod.metadata.namespace, NODE_RESOLV,
                           spec.host_network, spec.dns_config or DnsConfig())


def upstreams(cluster, namespace: str) -> tuple[str, ...]:
    """The Corefile's `forward . TO...`: /etc/resolv.conf in a CoreDNS pod is its node's
    (kubeadm runs CoreDNS with dnsPolicy Default); an address (dns://IP[:53]) is itself."""
    found: list[str] = []
    for target in cluster.coredns.config.forward or ():
        if target == "/etc/resolv.conf":
            found.extend(NODE_RESOLV.nameservers)
        else:
            found.append(target.removeprefix("dns://").removesuffix(":53"))
    return tuple(dict.fromkeys(found))
