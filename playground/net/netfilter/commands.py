"""Running one parsed iptables command against a namespace's tables, with the checks
the kernel makes when it loads a table."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from playground.net.netfilter.core import Chain
from playground.net.netfilter.targets import _TARGET_PLACES, _TARGETS
from playground.net.netfilter.values import (
    _EINVAL,
    _ELOOP,
    _ENOENT,
    BUILTIN_CHAINS,
    POLICIES,
    IptablesError,
    _kernel,
    _param,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from playground.net.netfilter.core import Rule, Table
    from playground.net.netfilter.parser import _Command
    from playground.net.netfilter.tables import Netfilter


def execute(nf: Netfilter, cmd: _Command, validate: bool) -> None:
    """Apply one parsed command; on error the table is left as it was."""
    table = nf.tables[cmd.table]
    op = cmd.op
    if op in ("L", "S"):
        raise _param(f"-{op} is not modeled; use save()")
    if op == "N":
        _check_chain_name(cmd.chain)
        if cmd.chain in table.chains:
            raise _kernel("Chain already exists")
        table.chains[cmd.chain] = Chain(cmd.chain)
    elif op == "X":
        _delete_chains(table, cmd.chain)
    elif op == "F":
        for chain in _chains(table, cmd.chain):
            if chain.rules:
                nf._writable(table, chain.name).rules.clear()
    elif op == "Z":
        chains = _chains(table, cmd.chain)
        if cmd.rulenum is not None:
            rules = chains[0].rules
            if cmd.rulenum > len(rules):
                raise _kernel("Index of counter too big")
            rules = nf._writable(table, chains[0].name).rules
            rules[cmd.rulenum - 1].packets = rules[cmd.rulenum - 1].bytes = 0
        else:
            _zero(c for c in chains if not c.shared)
            for chain in chains:
                if chain.shared and chain.parsed:   # unparsed: nothing counted yet
                    for rule in chain.rules:
                        nf.counts.pop(id(rule), None)
    elif op == "P":
        chain = nf.chain(cmd.table, cmd.chain)
        if not chain.builtin:
            raise _kernel("Bad built-in chain name")
        if cmd.extra not in POLICIES:
            raise _kernel("Bad policy name. Run `dmesg' for more information")
        chain.policy = cmd.extra
    elif op == "E":
        _rename(nf, table, cmd.chain, cmd.extra)
    else:
        _rule_command(nf, table, cmd, validate)

def _rule_command(nf: Netfilter, table: Table, cmd: _Command, validate: bool) -> None:
    for rule in cmd.rules:
        _resolve_target(table, rule)
    chain = nf.chain(table.name, cmd.chain)
    rules, op, number = chain.rules, cmd.op, cmd.rulenum
    if op != "C":
        rules = nf._writable(table, cmd.chain).rules
    if op == "C":
        if any(_find(rules, rule) is None for rule in cmd.rules):
            raise _kernel("Bad rule (does a matching rule exist in that chain?)")
        return
    if op == "D":
        if number is not None:
            if number > len(rules):
                raise _kernel("Index of deletion too big")
            del rules[number - 1]
            return
        kept = list(rules)
        for rule in cmd.rules:
            index = _find(kept, rule)
            if index is None:
                raise _kernel("Bad rule (does a matching rule exist in that chain?)")
            del kept[index]
        rules[:] = kept
        return
    before = list(rules)
    if op == "A":
        rules.extend(cmd.rules)
    elif op == "I":
        number = number or 1
        if number > len(rules) + 1:
            raise _kernel("Index of insertion too big")
        for rule in cmd.rules:   # each at the same position, as iptables does
            rules.insert(number - 1, rule)
    else:
        if number > len(rules):
            raise _kernel("Index of replacement too big")
        rules[number - 1] = cmd.rules[0]
    if validate and any(_needs_validation(rule) for rule in cmd.rules):
        try:
            validate_table(table)
        except IptablesError:
            rules[:] = before
            raise

def _chains(table: Table, name: str | None) -> list[Chain]:
    if name is None:
        return list(table.chains.values())
    if name not in table.chains:
        raise _kernel(_ENOENT)
    return [table.chains[name]]

def _delete_chains(table: Table, name: str | None) -> None:
    if name is None:
        names = sorted(name for name, c in table.chains.items() if not c.builtin)
    elif name not in table.chains:
        raise _kernel(_ENOENT)
    elif table.chains[name].builtin:
        raise _kernel(_EINVAL)
    else:
        names = [name]
    references = table.references()
    for chain_name in names:
        if references.get(chain_name):
            raise _kernel("Too many links")
        if table.chains[chain_name].rules:
            raise _kernel("Directory not empty")
    for chain_name in names:
        del table.chains[chain_name]

def _rename(nf: Netfilter, table: Table, old: str, new: str) -> None:
    if old not in table.chains:
        raise _kernel(_ENOENT)
    if table.chains[old].builtin:
        raise _kernel(_EINVAL)
    _check_chain_name(new)
    if new in table.chains:
        raise _kernel("File exists")
    chains = table.chains
    renamed = chains[old].clone() if chains[old].shared else chains[old]
    renamed.name, renamed.shared = new, False
    renamed.changed()
    own = {(new if name == old else name): chain for name, chain in chains.own.items()}
    own.setdefault(new, renamed)
    del chains[old]
    chains.own = own
    chains.version += 1
    for name in [n for n, c in chains.items() if old in c.target_names()]:
        for rule in nf._writable(table, name).rules:
            if rule.target is not None and rule.target.name == old:
                rule.target = replace(rule.target, name=new)
                rule._spec = None


def _zero(chains: Iterable[Chain]) -> None:
    for chain in chains:
        chain.packets = chain.bytes = 0
        for rule in chain.rules:
            rule.packets = rule.bytes = 0


def _find(rules: list[Rule], wanted: Rule) -> int | None:
    """The first rule identical to `wanted` (iptables compares whole rules, not counters)."""
    spec = wanted.spec()
    return next((i for i, rule in enumerate(rules) if rule.spec() == spec), None)


def _check_chain_name(name: str) -> None:
    if not name:
        raise _param("empty chain name not allowed")
    if len(name) > 28:
        raise _param(f"chain name `{name}' too long (must be under 29 chars)")
    if name[0] in "-!":
        raise _param(f"chain name not allowed to start with `{name[0]}'")
    if name in _TARGETS:
        raise _param("chain name may not clash with target name")


def _resolve_target(table: Table, rule: Rule) -> None:
    """-j must name a target or a user chain of this table; some targets fit one table."""
    target = rule.target
    if target is None:
        return
    if target.is_chain:
        chain = table.chains.get(target.name)
        if chain is None or chain.builtin:
            raise _param(f"Couldn't load target `{target.name}':No such file or directory")
    elif target.name in _TARGET_PLACES and _TARGET_PLACES[target.name][0] != table.name:
        raise _kernel(_EINVAL)


def _needs_validation(rule: Rule) -> bool:
    return rule.target is not None and (rule.target.is_chain
                                        or rule.target.name in _TARGET_PLACES)


def validate_table(table: Table) -> None:
    """What the kernel checks on loading a table: no jump loop reachable from a hook, and
    each hook-limited target only reachable from the hooks it supports."""
    targets = {name: chain.target_names() for name, chain in table.chains.items()}
    edges = {name: [target for target in names if target is not None and target not in _TARGETS]
             for name, names in targets.items()}
    hooks: dict[str, set[str]] = {}
    for hook in BUILTIN_CHAINS[table.name]:
        state = {hook: 1}   # 1: on the current path, 2: done
        stack = [(hook, iter(edges[hook]))]
        hooks.setdefault(hook, set()).add(hook)
        while stack:
            name, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                state[name] = 2
                stack.pop()
            elif state.get(following) == 1:
                raise _kernel(_ELOOP)
            elif following not in state and following in edges:
                state[following] = 1
                hooks.setdefault(following, set()).add(hook)
                stack.append((following, iter(edges[following])))
    for name, names in targets.items():
        for target in names:
            place = _TARGET_PLACES.get(target) if target else None
            if place and not hooks.get(name, set()) <= place[1]:
                raise _kernel(_EINVAL)
