"""`nft list ruleset|table|chain|set|map` text, byte for byte as nft 1.0.6 prints it."""

from __future__ import annotations

from playground.net.nftables.ruleset import Chain, Table, priority_text
from playground.net.nftables.sets import NftSet
from playground.net.nftables.timefmt import duration
from playground.net.nftables.types import TYPES

NEWLINE = ",\n\t\t\t     "


def table_text(table: Table, now: float, handles: bool = False, only=None) -> str:
    """A table; `only` limits it to one chain or set (`nft list chain ...`)."""
    shown = handles and only is None   # `nft -a list chain` leaves the table's handle out
    lines = [f"table {table.family} {table.name} {{" + _handle(table.handle, shown)]
    blocks = []
    if only is None and table.comment is not None:
        lines.append(f'\tcomment "{table.comment}"')
    for named in table.sets.values():
        if only is None or only is named:
            blocks.append(set_block(named, now, handles))
    for chain in table.chains.values():
        if only is None or only is chain:
            blocks.append(chain_block(chain, table.family, handles))
    if blocks:
        lines.append("\n\n".join(blocks))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _handle(handle: int, shown: bool) -> str:
    return f" # handle {handle}" if shown else ""


def chain_block(chain: Chain, family: str, handles: bool = False) -> str:
    lines = [f"\tchain {chain.name} {{" + _handle(chain.handle, handles)]
    if chain.comment is not None:
        lines.append(f'\t\tcomment "{chain.comment}"')
    base = chain.base
    if base is not None:
        lines.append(f"\t\ttype {base.type} hook {base.hook} priority "
                     f"{priority_text(base.priority, base.hook)}; policy {base.policy};")
    for rule in chain.rules:
        lines.append(f"\t\t{rule.text()}" + _handle(rule.handle, handles))
    lines.append("\t}")
    return "\n".join(lines)


def set_block(named: NftSet, now: float, handles: bool = False) -> str:
    kind = "map" if named.is_map else "set"
    key = " . ".join(t.name for t in named.key_types)
    if named.is_map:
        key += f" : {named.data_type.name}"
    lines = [f"\t{kind} {named.name} {{" + _handle(named.handle, handles),
             f"\t\ttype {key}"]
    if named.size is not None:
        lines.append(f"\t\tsize {named.size}")
    flags = list(named.flags)
    if not (flags == ["timeout"] and named.timeout is not None) and flags:
        lines.append(f"\t\tflags {','.join(flags)}")
    if named.timeout is not None:
        lines.append(f"\t\ttimeout {duration(named.timeout)}")
    if named.comment is not None:
        lines.append(f'\t\tcomment "{named.comment}"')
    live = named.live(now)
    if live:
        lines.append("\t\telements = { " + elements_text(named, live, now) + " }")
    lines.append("\t}")
    return "\n".join(lines)


def elements_text(named: NftSet, live: list, now: float) -> str:
    """Elements joined the way nft's calculate_delim does: a few per line for short keys,
    one per line for concatenations and other wide ones."""
    per_line = named.key_types[0].line if len(named.key_types) == 1 else 1
    if named.key_types[0] is TYPES["ifname"]:
        per_line = 1
    text, count = [], 0
    for index, element in enumerate(live):
        if index:
            count += 1
            if count >= per_line:
                text.append(NEWLINE)
                count = 0
            else:
                text.append(", ")
        text.append(named.element_text(element, now))
    return "".join(text)


def ruleset_text(tables: list[Table], now: float, handles: bool = False) -> str:
    return "".join(table_text(table, now, handles) for table in tables)
