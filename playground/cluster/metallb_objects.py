"""MetalLB's configuration objects (metallb.io/v1beta1, MetalLB v0.16.1): where its addresses
come from (IPAddressPool) and which nodes may announce them in layer 2 (L2Advertisement),
with the checks its validating webhook makes (internal/config). The provider that acts on
them is playground/lb/metallb.py; the API knows them only while that provider runs (its
CRDs are installed with it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from playground.cluster import validation
from playground.cluster.objects import LabelSelectorRequirement, Named, ObjectMeta

API_VERSION = "metallb.io/v1beta1"


@dataclass
class NodeSelector:
    """One of an L2Advertisement's nodeSelectors (a metav1.LabelSelector)."""

    match_labels: dict[str, str] = field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = field(default_factory=list)


@dataclass
class IPAddressPool(Named):
    metadata: ObjectMeta
    addresses: list[str] = field(default_factory=list)   # CIDRs or FIRST-LAST ranges
    auto_assign: bool = True
    avoid_buggy_ips: bool = False   # skip the .0 and .255 addresses
    kind: str = "IPAddressPool"

    def networks(self) -> list[IPv4Network]:
        """The pool as CIDRs, in the order written (a range becomes the CIDRs that cover
        it exactly, as MetalLB's parseCIDR does); only for a pool that passed its checks."""
        found: list[IPv4Network] = []
        for text in self.addresses:
            found += address_range(text)
        return found


@dataclass
class L2Advertisement(Named):
    metadata: ObjectMeta
    ip_address_pools: list[str] = field(default_factory=list)   # none: every pool
    node_selectors: list[NodeSelector] = field(default_factory=list)   # none: every node
    interfaces: list[str] = field(default_factory=list)
    kind: str = "L2Advertisement"


def address_range(text: str) -> list[IPv4Network]:
    """A pool's address entry as CIDRs; ValueError saying what is wrong."""
    text = text.strip()
    if "-" not in text:
        try:
            return [IPv4Network(text)]
        except ValueError:
            raise ValueError(f"invalid CIDR {text!r}") from None
    first_text, _, last_text = text.partition("-")
    try:
        first, last = IPv4Address(first_text.strip()), IPv4Address(last_text.strip())
    except ValueError:
        raise ValueError(f"invalid IP range {text!r}: the lab models IPv4 addresses "
                         "only") from None
    if first > last:
        raise ValueError(f"invalid IP range {text!r}: start IP {first} is after the end "
                         f"IP {last}")
    return list(summarize_address_range(first, last))


def validate_pool(pool: IPAddressPool, others: list[IPAddressPool]) -> None:
    """The webhook's checks: a name, addresses that parse, none overlapping another pool's."""
    errors = validation.meta_errors("IPAddressPool", pool.name, pool.metadata.namespace,
                                    pool.metadata.labels, pool.metadata.annotations)
    validation.check("IPAddressPool", pool.name, errors)
    if not pool.addresses:
        raise validation.ValidationError(f"IPAddressPool {pool.name}: spec.addresses: "
                                         "Required value")
    mine: list[IPv4Network] = []
    for index, text in enumerate(pool.addresses):
        try:
            mine += address_range(text)
        except ValueError as error:
            raise validation.ValidationError(
                f"IPAddressPool {pool.name}: spec.addresses[{index}]: {error}") from None
    for other in others:
        if other.key == pool.key:
            continue
        for cidr in mine:
            for theirs in other.networks():
                if cidr.overlaps(theirs):
                    raise validation.ValidationError(
                        f"IPAddressPool {pool.name}: CIDR {cidr} overlaps with already "
                        f"defined CIDR {theirs} of pool {other.name}")


def check_pools(pools: list[IPAddressPool]) -> None:
    """A lab file's pools, each against the others, as the webhook took them one by one."""
    for index, pool in enumerate(pools):
        validate_pool(pool, pools[:index])


def validate_advertisement(advertisement: L2Advertisement) -> None:
    meta = advertisement.metadata
    validation.check("L2Advertisement", advertisement.name, validation.meta_errors(
        "L2Advertisement", advertisement.name, meta.namespace, meta.labels, meta.annotations))
