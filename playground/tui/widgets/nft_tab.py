"""The inspector's nftables tab: `nft list ruleset` of one namespace, and for an nftables
hop the rule that decided lit, the rules it passed through tinted, and the set and map
elements it matched lit where the listing shows them."""

from __future__ import annotations

import re

from rich.text import Text

from playground.net.netns import Namespace
from playground.net.trace import Hop

LIT = "bold black on yellow"
PASSED = "yellow"
BLOCK = re.compile(r"^\t(chain|set|map) (\S+) \{$")
TABLE = re.compile(r"^table (\S+ \S+) \{$")


def has_nft(ns: Namespace | None) -> bool:
    """Whether the namespace's nf_tables holds any table (made only once something uses it)."""
    nft = getattr(ns, "nft_if_loaded", None)
    return nft is not None and bool(nft.tables)


def _chain_rule(text: str) -> tuple[str, str]:
    """A hop's "CHAIN: RULE" as (chain, rule as listed)."""
    chain, _, rule = text.partition(": ")
    return chain, rule


def _elements(map_entry: str | None) -> list[tuple[str, re.Pattern]]:
    """A hop's matched elements, "@NAME: KEY [: VERDICT]; ...", as (set, pattern of its line);
    an anonymous one ({ }) is in the rule itself, already lit."""
    found = []
    for part in (map_entry or "").split("; "):
        name, _, element = part.partition(": ")
        if not name.startswith("@") or not element:
            continue
        key, _, verdict = element.partition(" : ")
        tail = r'( comment "[^"]*")?' + (rf" : {re.escape(verdict)}" if verdict else "")
        found.append((name[1:], re.compile(rf"(^|[{{ ,]){re.escape(key)}{tail}(,|$| \}})")))
    return found


def nft_text(ns: Namespace, hop: Hop | None) -> tuple[Text, int | None]:
    """`nft list ruleset` with this hop's rules and elements lit (tabs at nft's 8 columns,
    so element lists stay aligned); the deciding rule's line, else the first lit one."""
    if not has_nft(ns):
        return Text(f"(no nf_tables in {ns.name})\n"), None
    listing = ns.nft_if_loaded.list_ruleset()
    lines = [f"# nft list ruleset    ({ns.name})", *listing.splitlines()]
    here = hop if hop is not None and hop.event == "nftables" else None
    strong = {_chain_rule(here.rule)} if here and here.rule else set()
    weak = {_chain_rule(rule) for rule in here.matched_rules} if here else set()
    elements = _elements(here.map_entry) if here else []
    out, first, decided = Text(), None, None
    table = kind = block = None
    for number, line in enumerate(lines):
        style = ""
        if head := TABLE.match(line):
            table = head[1]
        elif head := BLOCK.match(line):
            kind, block = head[1], head[2]
        elif here and table == here.table and line.startswith("\t\t"):
            bare = line.strip()
            if kind == "chain":
                if (block, bare) in strong or (
                        here.rule and here.rule.startswith("policy ") and block == here.chain
                        and bare.startswith("type ") and bare.endswith(f"{here.rule};")):
                    style = LIT
                    decided = number if decided is None else decided
                elif (block, bare) in weak:
                    style = PASSED
            elif any(name == block and pattern.search(bare) for name, pattern in elements):
                style = LIT
        if style == LIT and first is None:
            first = number
        out.append(line.expandtabs(8), style)
        out.append("\n")
    return out, decided if decided is not None else first
