"""The commands that load each namespace's nftables ruleset into the kernel lab."""

from __future__ import annotations

from pathlib import Path

from playground.net.netns import Namespace
from playground.verify.command import Command, in_ns
from playground.verify.queue_plan import append_commands, without_queue_rules

PROGRAMS = Path(__file__).parent   # where queue_rule.py is (cleanup.PROGRAMS imports us)


def has_tables(ns: Namespace) -> bool:
    nft = ns.nft_if_loaded
    return nft is not None and bool(nft.tables)


def load_commands(name: str, ns: Namespace) -> list[Command]:
    """`nft -f -` with the model's ruleset as nft lists it (its block form is nft input);
    queue rules after it, through nft_compat (see queue_plan)."""
    if not has_tables(ns):
        return []
    appended = append_commands(name, ns, PROGRAMS)
    tables = without_queue_rules(ns) if appended else ns.nft
    return [in_ns(name, "nft", "-f", "-", stdin=tables.list_ruleset()), *appended]
