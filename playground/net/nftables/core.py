"""One namespace's nf_tables: the ruleset, its transactions and what it shows."""

from __future__ import annotations

import functools
from collections.abc import Callable

from playground.net.nftables.commands import Transaction, run
from playground.net.nftables.errors import ENOENT, NftError
from playground.net.nftables.jsonout import METAINFO, ruleset_json, set_json, table_json
from playground.net.nftables.lexer import tokenize
from playground.net.nftables.listing import ruleset_text, table_text
from playground.net.nftables.reader import Reader
from playground.net.nftables.ruleset import FAMILIES, Table


@functools.lru_cache(maxsize=8)
def _tokens(text: str, source: str) -> tuple:
    """The tokens of one input, kept for the next namespaces given the same text: every
    node's kube-proxy sends the same transaction, one node after the other (tokens are
    immutable and a Reader only reads them)."""
    return tuple(tokenize(text, source))


class Nftables:
    """The tables of one network namespace and the atomic batch that changes them.

    `on_change` is told after every committed batch (the dataplane re-registers base
    chains at the netfilter hooks); `clock` is the lab clock element timeouts run on."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0,
                 on_change: Callable[[Nftables], None] | None = None) -> None:
        self.tables: dict[tuple[str, str], Table] = {}
        self.generation = 0
        self.clock = clock
        self.on_change = on_change  # a plain function of this object, so copies keep working
        self._next_table_handle = 1

    # changing

    def run(self, text: str, source: str = "") -> None:
        """Apply nft input (what `nft -f FILE` reads) as one transaction: every command or
        none. Raises NftError with nft's first error line."""
        reader = Reader(_tokens(text, source))
        txn = Transaction(self.tables, self._next_table_handle, self.clock())
        try:
            run(reader, txn)
        finally:
            self._next_table_handle = txn.next_table_handle  # the kernel spends them anyway
        self.tables = txn.tables
        self.generation += 1
        if self.on_change is not None:
            self.on_change(self)

    def command(self, argv: list[str]) -> None:
        """`nft add rule ip t c ...` given as words, as the shell passes them."""
        self.run(" ".join(_quoted(word) for word in argv))

    # looking

    def table(self, family: str, name: str) -> Table:
        table = self.tables.get((family, name))
        if table is None:
            raise NftError(ENOENT)
        return table

    def list_ruleset(self, handles: bool = False) -> str:
        return ruleset_text(list(self.tables.values()), self.clock(), handles)

    def list_json(self) -> dict:
        return ruleset_json(list(self.tables.values()), self.clock())

    def list(self, argv: list[str], handles: bool = False, as_json: bool = False):
        """`nft list ruleset|tables|table|chain|set|map ...`: text, or JSON with -j."""
        now = self.clock()
        what, rest = (argv[0], argv[1:]) if argv else ("", [])
        if what == "ruleset":
            if rest and rest[0] in FAMILIES:
                tables = [t for t in self.tables.values() if t.family == rest[0]]
            else:
                tables = list(self.tables.values())
            return ruleset_json(tables, now) if as_json else ruleset_text(tables, now, handles)
        if what == "tables":
            if as_json:
                return {"nftables": [METAINFO] + [
                    {"table": {"family": t.family, "name": t.name, "handle": t.handle}}
                    for t in self.tables.values()]}
            return "".join(f"table {t.family} {t.name}\n" for t in self.tables.values())
        if what in ("table", "chain", "set", "map"):
            family, words = _family(rest)
            need = 1 if what == "table" else 2
            if len(words) != need:
                raise NftError(f"syntax error, write it as nft list {what} [family] "
                               + ("TABLE" if need == 1 else f"TABLE {what.upper()}"))
            table = self.table(family, words[0])
            if what == "table":
                if as_json:
                    return {"nftables": [METAINFO] + table_json(table, now)}
                return table_text(table, now, handles)
            found = (table.chains if what == "chain" else table.sets).get(words[1])
            if found is None or (what != "chain" and found.is_map != (what == "map")):
                raise NftError(ENOENT)
            if as_json:
                if what == "chain":
                    items = [i for i in table_json(table, now)
                             if i.get("chain", {}).get("name") == words[1]
                             or i.get("rule", {}).get("chain") == words[1]]
                else:
                    items = [set_json(table, found, now)]
                return {"nftables": [METAINFO] + items}
            return table_text(table, now, handles, only=found)
        raise NftError("syntax error, unexpected end of file, expecting ruleset, tables, "
                       "table, chain, set or map")

    # what the dataplane asks

    def base_chains(self):
        """(table, chain) of every base chain, in the order they were made."""
        for table in self.tables.values():
            for chain in table.chains.values():
                if chain.base is not None:
                    yield table, chain


def _family(words: list[str]) -> tuple[str, list[str]]:
    if words and words[0] in FAMILIES:
        return words[0], words[1:]
    return "ip", words


def _quoted(word: str) -> str:
    """A shell word back in nft's input: a comment's text keeps its quotes."""
    if any(char.isspace() for char in word) and not word.startswith('"'):
        return f'"{word}"'
    return word
