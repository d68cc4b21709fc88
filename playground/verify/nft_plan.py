"""The commands that load each namespace's nftables ruleset into the kernel lab."""

from __future__ import annotations

from playground.net.netns import Namespace
from playground.verify.command import Command, in_ns


def has_tables(ns: Namespace) -> bool:
    nft = ns.nft_if_loaded
    return nft is not None and bool(nft.tables)


def load_commands(name: str, ns: Namespace) -> list[Command]:
    """`nft -f -` with the model's ruleset as nft lists it (its block form is nft input)."""
    if not has_tables(ns):
        return []
    return [in_ns(name, "nft", "-f", "-", stdin=ns.nft.list_ruleset())]
