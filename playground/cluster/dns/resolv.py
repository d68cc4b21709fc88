"""/etc/resolv.conf as kubelet writes it for each dnsPolicy, and the order in which glibc's
stub resolver (res_nsearch, res_send) asks for a name.

Followed: kubernetes pkg/kubelet/network/dns/dns.go (GetPodDNS, formDNSConfigFitsLimits)
at v1.31, and glibc resolv/res_query.c __res_context_search and res_send.c; the defaults
are resolv.h's: timeout 5 s, 2 attempts, ndots 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLUSTER_DOMAIN = "cluster.local"
CLUSTER_DNS = "10.96.0.10"  # kubelet's --cluster-dns: the kube-dns Service's cluster IP
POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
MAX_SEARCH = 32  # kubelet's validation.MaxDNSSearchPaths
MAX_NAMESERVERS = 3  # validation.MaxDNSNameservers, glibc's MAXNS


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...]
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [f"search {' '.join(self.search)}"] if self.search else []
        lines += [f"nameserver {server}" for server in self.nameservers]
        if self.options:
            lines.append(f"options {' '.join(self.options)}")
        return "\n".join(lines) + "\n"

    def option(self, name: str, default: int) -> int:
        for option in self.options:
            key, _, value = option.partition(":")
            if key == name and value.isdigit():
                return int(value)
        return default

    def has(self, flag: str) -> bool:
        """An option without a value (edns0, use-vc) is set."""
        return flag in self.options

    @property
    def ndots(self) -> int:
        return min(self.option("ndots", 1), 15)  # glibc caps ndots at RES_MAXNDOTS

    @property
    def timeout(self) -> int:
        return self.option("timeout", 5)

    @property
    def attempts(self) -> int:
        return self.option("attempts", 2)


@dataclass(frozen=True)
class DnsConfig:
    """A pod's spec.dnsConfig: added to (or, with dnsPolicy None, all of) its resolv.conf."""

    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = field(default_factory=tuple)


def pod_resolv_conf(policy: str, namespace: str, host: ResolvConf, host_network: bool = False,
                    config: DnsConfig = DnsConfig()) -> ResolvConf:
    """GetPodDNS: ClusterFirst (and ClusterFirstWithHostNet) point at the cluster DNS with the
    namespace's search list and ndots:5; a host-network pod with plain ClusterFirst, and
    Default, get the node's file; None only what dnsConfig says. dnsConfig then merges."""
    if policy == "None":
        base = ResolvConf(())
    elif policy == "Default" or (policy == "ClusterFirst" and host_network):
        base = host
    else:
        base = ResolvConf((CLUSTER_DNS,), (f"{namespace}.svc.{CLUSTER_DOMAIN}",
                                           f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN,
                                           *host.search), ("ndots:5",))
    return ResolvConf(
        _unique(base.nameservers + config.nameservers)[:MAX_NAMESERVERS],
        _unique(base.search + config.searches)[:MAX_SEARCH],
        _merge_options(base.options, config.options))


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _merge_options(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """mergeDNSOptions: an option given again replaces the one of the same name."""
    merged: dict[str, str] = {}
    for option in (*base, *extra):
        merged[option.partition(":")[0]] = option
    return tuple(merged.values())


def search_order(name: str, conf: ResolvConf) -> list[str]:
    """The names res_nsearch asks for, in order, each absolute: a trailing dot is the name
    alone; with at least ndots dots the name as given comes first, else after the list."""
    if name.endswith("."):
        return [name]
    dots = name.count(".")
    domains = [f"{name}.{domain}." for domain in conf.search]
    if dots >= conf.ndots:
        return [f"{name}.", *domains]
    return [*domains, f"{name}."]
