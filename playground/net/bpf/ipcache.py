"""Cilium's ipcache (cilium_ipcache_v2): every address the agent knows, cluster-wide, with
its security identity and, for a pod on another node, that node as tunnel endpoint. The
programs look up the peer of a packet here (longest prefix first); an address it does not
know is the world."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from playground.net.bpf.tabwriter import tabwrite

IPCACHE_MAP = "cilium_ipcache_v2"

# reserved identities (pkg/identity/numericidentity.go); labelled ones start at 256
UNKNOWN, HOST, WORLD, UNMANAGED, HEALTH, INIT, REMOTE_NODE, KUBE_APISERVER, INGRESS = range(9)
RESERVED = {UNKNOWN: "reserved:unknown", HOST: "reserved:host", WORLD: "reserved:world",
            UNMANAGED: "reserved:unmanaged", HEALTH: "reserved:health", INIT: "reserved:init",
            REMOTE_NODE: "reserved:remote-node", KUBE_APISERVER: "reserved:kube-apiserver",
            INGRESS: "reserved:ingress"}
FIRST_CLUSTER_IDENTITY = 256


@dataclass(frozen=True, slots=True)
class IpcacheEntry:
    identity: int
    tunnel_endpoint: IPv4Address | None = None

    def text(self) -> str:
        endpoint = self.tunnel_endpoint or IPv4Address("0.0.0.0")
        return f"identity={self.identity} encryptkey=0 tunnelendpoint={endpoint} flags=<none>"


class Ipcache:
    def __init__(self) -> None:
        self.entries: dict[IPv4Network, IpcacheEntry] = {}

    def upsert(self, prefix, identity: int, tunnel_endpoint: IPv4Address | None = None) -> None:
        self.entries[IPv4Network(prefix)] = IpcacheEntry(identity, tunnel_endpoint)

    def delete(self, prefix) -> None:
        self.entries.pop(IPv4Network(prefix), None)

    def lookup(self, address: IPv4Address) -> tuple[IPv4Network | None, IpcacheEntry]:
        """The longest prefix holding `address`, or the world when none does."""
        best = None
        for prefix in self.entries:
            if address in prefix and (best is None or prefix.prefixlen > best.prefixlen):
                best = prefix
        if best is None:
            return None, IpcacheEntry(WORLD)
        return best, self.entries[best]

    def identity_of(self, address: IPv4Address) -> int:
        return self.lookup(address)[1].identity

    def entry_text(self, address: IPv4Address) -> str:
        prefix, entry = self.lookup(address)
        if prefix is None:
            return f"{IPCACHE_MAP}: no prefix holds {address}, so it is the world " \
                   f"(identity {WORLD})"
        return f"{IPCACHE_MAP} {prefix} → {entry.text()}"

    def listing(self) -> str:
        """`cilium bpf ipcache list`."""
        rows = [["IP PREFIX/ADDRESS", "IDENTITY"]]
        rows += [[str(prefix), entry.text()] for prefix, entry in
                 sorted(self.entries.items(), key=lambda item: (item[0].network_address,
                                                                item[0].prefixlen))]
        return tabwrite(rows, last_padded=False)
