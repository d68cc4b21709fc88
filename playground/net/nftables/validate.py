"""The kernel's check of a table at commit (nft_chain_validate): from every base chain,
no path of jumps and gotos may reach 16 chains deep, which a loop always does."""

from __future__ import annotations

from playground.net.nftables.ruleset import Chain, Table, rule_targets
from playground.net.nftables.stmt import SetRef, Vmap

JUMP_STACK = 16   # NFT_JUMP_STACK_SIZE


def _targets(table: Table, chain: Chain, fresh: dict) -> list[str]:
    """The chains one chain jumps to; kept for the next commit while neither the chain
    nor the maps it looks up were replaced (a change copies them), so a commit reads
    only the rules it changed, not the 30,000 chains of a large table."""
    known = table._edges.get(id(chain))
    if known is not None and known[0] is chain and all(
            table.sets.get(name) is named and len(named.elements) == count
            for name, named, count in known[1]):
        fresh[id(chain)] = known
        return known[2]
    found, used = [], []
    for rule in chain.rules:
        found += rule_targets(rule)
        for statement in rule.statements:
            if isinstance(statement, Vmap) and isinstance(statement.target, SetRef):
                named = table.sets[statement.target.name]
                used.append((statement.target.name, named, len(named.elements)))
                found += [e.data.target for e in named.elements.values()
                          if getattr(e.data, "target", None)]
    fresh[id(chain)] = (chain, tuple(used), found)
    return found


def too_deep(table: Table) -> bool:
    """Whether some base chain reaches a chain at depth 16 (EMLINK, "Too many links")."""
    checked: dict[str, int] = {}   # chain -> the deepest level it is known fine at
    edges: dict[str, list[str]] = {}
    fresh: dict = {}   # what the next commit may reuse: only chains reached now
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
                edges[name] = _targets(table, table.chains[name], fresh)
            stack += [(target, level + 1) for target in edges[name]]
    table._edges = fresh
    return False
