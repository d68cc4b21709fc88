"""The `portmap` meta plugin, chained after the main plugin in the conflist (as kindnet's
and flannel's chain it): a pod's hostPorts become DNAT rules in the node's nat table.

Followed: containernetworking/plugins plugins/meta/portmap (portmap_iptables.go at
be65b5b95423b436addea9d9774cfc6a1b054c13, chain.go and pkg/utils/iptables.go at
15163349e1b5384e8511f1f67fb05fe2226bcf25), with its defaults: snat on, markMasqBit 13, no
conditions, no masqAll.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv4Interface

from playground.cni.base import PortMapping
from playground.net.netns import Namespace

TOP_DNAT = "CNI-HOSTPORT-DNAT"
SETMARK = "CNI-HOSTPORT-SETMARK"
MASQ = "CNI-HOSTPORT-MASQ"
MARK = f"{1 << 13:#x}/{1 << 13:#x}"   # DefaultMarkBit 13: Kubernetes has 14 and 15
MAX_CHAIN = 28                          # utils.maxChainLength
MULTIPORT_MAX = 15                      # ports one multiport match takes


def dnat_chain(network: str, container_id: str) -> str:
    """utils.MustFormatChainNameWithPrefix: CNI-DN- and the SHA-512 of name + id, 28 long."""
    digest = hashlib.sha512((network + container_id).encode()).hexdigest()
    return ("CNI-DN-" + digest)[:MAX_CHAIN]


def _comment(text: str) -> str:
    return text if len(text) <= 255 else text[:253] + "..."   # iptables' comment limit


class PortMapPlugin:
    name = "portmap"

    def add(self, node_ns: Namespace, network: str, container_id: str,
            address: IPv4Interface, mappings: list[PortMapping]) -> None:
        """CNI ADD (forwardPorts): the shared chains once, then the pod's own chain."""
        if not mappings:
            return
        nf = node_ns.netfilter
        _ensure(nf, SETMARK, ["-m", "comment", "--comment", "CNI portfwd masquerade mark",
                              "-j", "MARK", "--set-xmark", MARK])
        _ensure(nf, MASQ, ["-m", "mark", "--mark", MARK, "-j", "MASQUERADE"])
        _insert_unique(nf, "POSTROUTING", True, ["-m", "comment", "--comment",
                                                 "CNI portfwd requiring masquerade",
                                                 "-j", MASQ])
        _ensure(nf, TOP_DNAT)
        for entry in ("PREROUTING", "OUTPUT"):
            _insert_unique(nf, entry, False, ["-m", "addrtype", "--dst-type", "LOCAL",
                                              "-j", TOP_DNAT])
        chain = dnat_chain(network, container_id)
        rules = []
        for mapping in mappings:
            base = ["-p", mapping.protocol, "--dport", str(mapping.host_port)]
            if mapping.host_ip and not IPv4Address(mapping.host_ip).is_unspecified:
                base += ["-d", mapping.host_ip]
            rules += [base + ["-s", str(address.network), "-j", SETMARK],   # hairpin
                      base + ["-s", "127.0.0.1", "-j", SETMARK],            # from localhost
                      base + ["-j", "DNAT", "--to-destination",
                              f"{address.ip}:{mapping.container_port}"]]
        _ensure(nf, chain, *rules)
        comment = _comment(f'dnat name: "{network}" id: "{container_id}"')
        for proto in sorted({m.protocol for m in mappings}):
            ports = [str(m.host_port) for m in mappings if m.protocol == proto]
            for start in range(0, len(ports), MULTIPORT_MAX):
                _insert_unique(nf, TOP_DNAT, True, [
                    "-m", "comment", "--comment", comment, "-m", "multiport", "-p", proto,
                    "--destination-ports", ",".join(ports[start:start + MULTIPORT_MAX]),
                    "-j", chain])

    def delete(self, node_ns: Namespace, network: str, container_id: str,
               mappings: list[PortMapping]) -> None:
        """CNI DEL (unforwardPorts): the pod's chain and the jumps to it; the shared chains
        stay, as the plugin leaves them."""
        if not mappings:
            return
        nf = node_ns.netfilter
        chain = dnat_chain(network, container_id)
        if chain not in nf.table("nat").chains:
            return
        nf.iptables(["-t", "nat", "-F", chain])
        jumps = [number for number, name in enumerate(
            nf.chain("nat", TOP_DNAT).target_names(), start=1) if name == chain]
        for number in reversed(jumps):
            nf.iptables(["-t", "nat", "-D", TOP_DNAT, str(number)])
        nf.iptables(["-t", "nat", "-X", chain])


def _ensure(nf, chain: str, *rules: list[str]) -> None:
    """chain.setup without entry rules: the chain made if missing, each rule appended once."""
    if chain not in nf.table("nat").chains:
        nf.iptables(["-t", "nat", "-N", chain])
    for rule in rules:
        _insert_unique(nf, chain, False, rule)


def _insert_unique(nf, chain: str, prepend: bool, rule: list[str]) -> None:
    """utils.InsertUnique: nothing if the rule is there, else inserted first or appended."""
    try:
        nf.iptables(["-t", "nat", "-C", chain, *rule])
        return
    except ValueError:
        pass
    where = ["-I", chain, "1"] if prepend else ["-A", chain]
    nf.iptables(["-t", "nat", *where, *rule], check_table=False)
