"""Address pools: pod CIDRs for nodes (node IPAM) and pod IPs within a node (host-local)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network


class PoolExhausted(ValueError):
    pass


class NodeCidrAllocator:
    """Hands each node one subnet of the cluster CIDR, lowest free first."""

    def __init__(self, cluster_cidr: IPv4Network, node_mask: int = 24) -> None:
        self.cluster_cidr = cluster_cidr
        self.node_mask = node_mask
        self.taken: dict[IPv4Network, str] = {}
        self.free_from = 0

    def occupy(self, cidr: IPv4Network, node: str) -> None:
        if not cidr.subnet_of(self.cluster_cidr):
            raise ValueError(f"pod CIDR {cidr} is outside the cluster CIDR {self.cluster_cidr}")
        owner = self.taken.get(cidr)
        if owner is not None and owner != node:
            raise ValueError(f"pod CIDR {cidr} is already assigned to node {owner}")
        self.taken[cidr] = node

    def allocate(self, node: str) -> IPv4Network:
        size = 1 << (32 - self.node_mask)
        first = int(self.cluster_cidr.network_address)
        count = self.cluster_cidr.num_addresses // size
        # below `free_from` every subnet is taken, so the search starts there
        for index in range(self.free_from, count):
            cidr = IPv4Network((first + index * size, self.node_mask))
            if cidr not in self.taken:
                self.taken[cidr] = node
                self.free_from = index + 1
                return cidr
        raise PoolExhausted(
            f"node {node}: no pod CIDR left: all {len(self.taken)} /{self.node_mask} ranges of "
            f"{self.cluster_cidr} are taken"
        )

    def release(self, node: str) -> None:
        self.taken = {cidr: owner for cidr, owner in self.taken.items() if owner != node}
        self.free_from = 0


class HostLocalIpam:
    """The host-local CNI IPAM: addresses from .2 up, .1 kept for the gateway."""

    def __init__(self, subnet: IPv4Network) -> None:
        self.subnet = subnet
        self.gateway = subnet.network_address + 1
        self.first = subnet.network_address + 2
        self.last = subnet.broadcast_address - 1
        self.leases: dict[IPv4Address, str] = {}
        self.free_from = int(self.first)   # every address below it is leased

    def allocate(self, owner: str, wanted: IPv4Address | None = None) -> IPv4Address:
        if wanted is not None:
            if not self.first <= wanted <= self.last:
                raise PoolExhausted(f"requested IP {wanted} is outside the range "
                                    f"{self.first}-{self.last}")
            if wanted in self.leases:
                raise PoolExhausted(f"requested IP {wanted} is already allocated to "
                                    f"{self.leases[wanted]}")
            self.leases[wanted] = owner
            return wanted
        value, last = self.free_from, int(self.last)
        while value <= last:
            address = IPv4Address(value)
            if address not in self.leases:
                self.leases[address] = owner
                self.free_from = value + 1
                return address
            value += 1
        self.free_from = value
        raise PoolExhausted(
            f"failed to allocate for range 0: no IP addresses available in range set: "
            f"{self.subnet.network_address + 1}-{self.last}"
        )

    def release(self, owner: str) -> None:
        self.leases = {ip: who for ip, who in self.leases.items() if who != owner}
        self.free_from = int(self.first)
