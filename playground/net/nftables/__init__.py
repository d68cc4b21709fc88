"""nf_tables: tables, chains, rules, sets and maps in nft's own language, evaluated at
the netfilter hooks beside iptables. Entry point: `Namespace.nft` (an Nftables)."""

from playground.net.nftables.core import Nftables
from playground.net.nftables.errors import NftError

__all__ = ["Nftables", "NftError"]
