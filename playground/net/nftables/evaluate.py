"""A packet through a base chain, as nft_do_chain walks it: statements in order until one
fails to match, jump pushes a return point (goto does not), a lookup is one probe of a
set or map, and the chain's policy decides when the walk falls off its end."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.net.nftables.expr import Binop, Expr
from playground.net.nftables.ruleset import Chain, Table
from playground.net.nftables.sets import NftSet
from playground.net.nftables.stmt import (
    Counter,
    Mangle,
    Match,
    Nat,
    Notrack,
    Queue,
    Reject,
    SetRef,
    SetUpdate,
    VerdictStmt,
    Vmap,
)
from playground.net.nftables.types import Interval

JUMP_STACK = 16   # NFT_JUMP_STACK_SIZE: the kernel refuses deeper rulesets at load
MASK32 = 0xFFFFFFFF


@dataclass(slots=True)
class Context:
    """What the expressions read: the packet and the skb's metadata around it."""

    packet: object
    in_dev: str | None
    out_dev: str | None
    mark: int
    ct_state: int | None       # the ct state bit (new 8, established 2, ...), None untracked
    ct_status: int
    ct_mark: int
    rng: object
    now: float
    address_type: object       # address -> "local", "unicast", ...
    l4proto: int = 0
    notrack: bool = False
    skuid: int | None = None   # the sending socket's owner: None without a local socket


@dataclass(slots=True)
class Outcome:
    verdict: str                # accept, drop, reject, queue, dnat, snat, masquerade
    chain: str                  # the chain whose rule decided (the base chain for policy)
    rule: object | None         # None: the base chain's policy decided
    statement: object | None = None   # the NAT, reject or queue statement
    matched: list = field(default_factory=list)   # (chain, rule) of every rule that acted
    elements: list = field(default_factory=list)  # "@set: element" texts that matched
    rules_walked: int = 0


class _Miss(Exception):
    """The rule stops here (NFT_BREAK): the next rule is tried."""


def run_chain(table: Table, base: Chain, ctx: Context) -> Outcome:
    matched, elements = [], []
    stack: list[tuple[Chain, int]] = []
    chain, index, walked = base, 0, 0
    while True:
        if index >= len(chain.rules):
            if not stack:
                return Outcome(base.base.policy, base.name, None, matched=matched,
                               elements=elements, rules_walked=walked)
            chain, index = stack.pop()
            continue
        rule = chain.rules[index]
        index += 1
        walked += 1
        try:
            verdict, statement = _run_rule(table, rule, ctx, elements)
        except _Miss:
            continue
        matched.append((chain.name, rule))
        if verdict is None:
            continue
        kind = verdict if isinstance(verdict, str) else verdict.kind
        if kind == "continue":
            continue
        if kind == "return":
            if not stack:
                return Outcome(base.base.policy, base.name, None, matched=matched,
                               elements=elements, rules_walked=walked)
            chain, index = stack.pop()
            continue
        if kind in ("jump", "goto"):
            if kind == "jump":
                stack.append((chain, index))
                if len(stack) > JUMP_STACK:
                    return Outcome("drop", chain.name, rule, matched=matched,
                                   elements=elements, rules_walked=walked)
            chain, index = table.chains[verdict.target], 0
            continue
        return Outcome(kind, chain.name, rule, statement, matched, elements, walked)


def _run_rule(table: Table, rule, ctx: Context, elements: list):
    """Run one rule's statements: (verdict or None, the deciding statement)."""
    for statement in rule.statements:
        kind = type(statement)
        if kind is Match:
            if not _matches(table, statement, ctx, elements):
                raise _Miss
        elif kind is VerdictStmt:
            return statement.verdict, statement
        elif kind is Vmap:
            key = statement.key.value(ctx)
            if key is None:
                raise _Miss
            target = _resolve(table, statement.target)
            element = target.lookup(key, ctx.now)
            if element is None:
                raise _Miss
            elements.append(_element_text(target, element, ctx.now))
            return element.data, statement
        elif kind is Counter:
            statement.packets += 1
            statement.bytes += ctx.packet.length
        elif kind is Mangle:
            value = statement.value.value(ctx) if isinstance(statement.value, Expr) \
                else statement.value
            if statement.key.key == "mark":
                if statement.key.text().startswith("ct"):
                    ctx.ct_mark = value & MASK32
                else:
                    ctx.mark = value & MASK32
        elif kind is SetUpdate:
            key = statement.key.value(ctx)
            if key is None:
                raise _Miss
            table.sets[statement.target.name].update(key, ctx.now, statement.timeout)
        elif kind is Nat:
            return statement.kind, statement
        elif kind is Reject:
            return "reject", statement
        elif kind is Queue:
            return "queue", statement
        elif kind is Notrack:
            ctx.notrack = True
    return None, None


def _matches(table: Table, match: Match, ctx: Context, elements: list) -> bool:
    value = match.left.value(ctx)
    if value is None:
        return False
    right = match.right
    op = match.op
    if isinstance(right, SetRef | NftSet):
        target = _resolve(table, right)
        element = target.lookup(value, ctx.now)
        if element is not None and right.__class__ is SetRef:
            elements.append(_element_text(target, element, ctx.now))
        return (element is not None) == (op != "!=")
    if op == "implicit":     # a flag type: any of the bits
        return bool(value & right)
    if isinstance(right, Interval):
        inside = right.low <= value <= right.high
        return inside if op == "==" else not inside
    if isinstance(match.left, Binop) or op in ("==", "!="):
        return (value == right) == (op == "==")
    return {"<": value < right, ">": value > right, "<=": value <= right,
            ">=": value >= right}[op]


def _resolve(table: Table, target) -> NftSet:
    return table.sets[target.name] if isinstance(target, SetRef) else target


def _element_text(target: NftSet, element, now: float) -> str:
    name = f"@{target.name}" if not target.anonymous else "{ }"
    return f"{name}: {target.element_text(element, now)}"
