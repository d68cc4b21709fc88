"""The kernel's check of a table at commit (nft_chain_validate): from every base chain,
no path of jumps and gotos may reach 16 chains deep, which a loop always does."""

from __future__ import annotations

from playground.net.nftables.ruleset import Chain, Table, rule_targets
from playground.net.nftables.stmt import SetRef, Vmap

JUMP_STACK = 16   # NFT_JUMP_STACK_SIZE


def _targets(table: Table, chain: Chain) -> list[str]:
    found = []
    for rule in chain.rules:
        found += rule_targets(rule)
        for statement in rule.statements:
            if isinstance(statement, Vmap) and isinstance(statement.target, SetRef):
                named = table.sets[statement.target.name]
                found += [e.data.target for e in named.elements.values()
                          if getattr(e.data, "target", None)]
    return found


def too_deep(table: Table) -> bool:
    """Whether some base chain reaches a chain at depth 16 (EMLINK, "Too many links")."""
    checked: dict[str, int] = {}   # chain -> the deepest level it is known fine at
    edges: dict[str, list[str]] = {}
    for base in (c for c in table.chains.values() if c.base is not None):
        stack = [(base.name, 0)]
        while stack:
            name, level = stack.pop()
            if level >= JUMP_STACK:
                return True
            if checked.get(name, -1) >= level:
                continue
            checked[name] = level
            if name not in edges:
                edges[name] = _targets(table, table.chains[name])
            stack += [(target, level + 1) for target in edges[name]]
    return False
