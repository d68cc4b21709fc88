"""What kube-proxy's nftables mode takes from its KubeProxyConfiguration, as the pieces of
rule text it writes: the masquerade mark (NewProxier), masqueradeAll, the local traffic
detector's nftables matches (proxyutil's LocalTrafficDetector) and the node addresses that
accept NodePorts (NodePortAddresses, `primary` by default in this mode)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_network

from playground.cluster.proxy_config import PRIMARY, ProxyOptions


def mark_text(bit: int) -> str:
    """NewProxier's `%#08x`: Go pads the digits to 8 and puts 0x before them."""
    return f"0x{1 << bit:08x}"


@dataclass(frozen=True)
class NftOptions:
    """The option-made parts of the rules; empty `if_local` is the no-op detector."""

    mark: str = mark_text(14)
    masquerade_all: bool = False
    if_local: str = ""        # IfLocalNFT
    if_not_local: str = ""    # IfNotLocalNFT

    @classmethod
    def by_cidr(cls, cidr: IPv4Network | str, **rest) -> NftOptions:
        return cls(if_local=f"ip saddr {cidr}", if_not_local=f"ip saddr != {cidr}", **rest)


def nft_options(options: ProxyOptions, cluster_cidr: IPv4Network,
                pod_cidr: str | None = None) -> NftOptions:
    """The detector as GetLocalTrafficDetectors makes it; NodeCIDR needs the node's podCIDR
    (none yet: the no-op detector, as kube-proxy without one)."""
    mark = mark_text(options.nft_masquerade_bit)
    base = dict(mark=mark, masquerade_all=options.nft_masquerade_all)
    mode = options.detect_local_mode
    if mode == "BridgeInterface":
        name = options.bridge_interface
        return NftOptions(if_local=f"iifname {name}", if_not_local=f"iifname != {name}", **base)
    if mode == "InterfaceNamePrefix":
        name = options.interface_name_prefix + "*"
        return NftOptions(if_local=f"iifname {name}", if_not_local=f"iifname != {name}", **base)
    cidr = pod_cidr if mode == "NodeCIDR" else options.cluster_cidr or str(cluster_cidr)
    return NftOptions.by_cidr(cidr, **base) if cidr else NftOptions(**base)


def node_port_ips(wanted: tuple[str, ...], node_ip: str | None,
                  addresses: Callable[[], list[IPv4Address]]) -> list[str] | None:
    """The node's addresses that take NodePorts, as NewNodePortAddresses and GetNodeIPs
    find them (`addresses` lists the node's own, asked only for CIDRs); None when a zero
    CIDR (or no IPv4 CIDR at all) means every local address."""
    if not wanted or wanted == (PRIMARY,):   # the mode's default: the Node's primary IP
        return [node_ip] if node_ip is not None else []
    cidrs = [c for c in (ip_network(t.strip(), strict=False) for t in wanted)
             if c.version == 4]
    if not cidrs or any(c.prefixlen == 0 for c in cidrs):
        return None
    found = {a for a in addresses() if not a.is_loopback and any(a in c for c in cidrs)}
    return [str(a) for a in sorted(found)]
