"""nft's input language run as one transaction: `add|create|insert|replace|delete|flush`
commands and the `table NAME { ... }` block form that `nft list ruleset` prints."""

from __future__ import annotations

from playground.net.nftables.errors import EBUSY, EEXIST, ENOENT, EOPNOTSUPP, NftError, kernel
from playground.net.nftables.reader import Reader
from playground.net.nftables.rule_parser import parse_elements, parse_rule
from playground.net.nftables.ruleset import (
    CHAIN_TYPES,
    FAMILIES,
    HOOKS,
    MODELLED_FAMILIES,
    PRIORITIES,
    BaseSpec,
    Chain,
    Table,
    rule_sets,
    rule_targets,
)
from playground.net.nftables.sets import NftSet
from playground.net.nftables.stmt import SetUpdate
from playground.net.nftables.timefmt import parse_duration
from playground.net.nftables.typecheck import check
from playground.net.nftables.types import TYPES, set_type
from playground.net.nftables.validate import too_deep

SET_FLAGS = ("constant", "dynamic", "interval", "timeout")
DYNAMIC_SIZE = 65535   # what nft gives a set a rule updates, when it has no size


class Transaction:
    """The tables as this batch leaves them, built on copies of what it touches."""

    def __init__(self, tables: dict, next_table_handle: int, now: float) -> None:
        self.tables = dict(tables)
        self.next_table_handle = next_table_handle
        self.now = now
        self._copied: set = set()

    def table(self, reader: Reader, family: str, name_token, write: bool = True) -> Table:
        key = (family, name_token.text)
        if key not in self.tables:
            raise reader.error(name_token, kernel(ENOENT))
        if write and key not in self._copied:
            self.tables[key] = self.tables[key].clone()
            self._copied.add(key)
        return self.tables[key]

    def new_table(self, family: str, name: str) -> Table:
        table = Table(family, name, self.next_table_handle)
        self.next_table_handle += 1
        self.tables[(family, name)] = table
        self._copied.add((family, name))
        return table


def run(reader: Reader, txn: Transaction) -> None:
    while True:
        reader.skip_ends()
        if reader.peek().kind == "end":
            break
        _command(reader, txn)
        if not reader.at_end():
            raise reader.unexpected(reader.peek(), "end of file")
    for key in txn._copied:   # the kernel validates the tables a batch changed
        table = txn.tables.get(key)
        if table is not None and too_deep(table):
            raise NftError(kernel("Too many links"))


def _command(reader: Reader, txn: Transaction) -> None:
    verb = reader.word("command")
    if verb.text == "table":
        _table_block(reader, txn, "add")
        return
    if verb.text not in ("add", "create", "insert", "replace", "delete", "destroy",
                         "flush"):
        raise reader.unexpected(verb, "command")
    what = reader.word("object")
    action = verb.text
    if what.text == "ruleset":
        if action != "flush":
            raise reader.unexpected(what, "table")
        family = reader.next().text if reader.peek().text in FAMILIES else None
        for key in [k for k in txn.tables if family in (None, k[0])]:
            del txn.tables[key]
        return
    handlers = {"table": _table, "chain": _chain, "rule": _rule, "set": _set, "map": _set,
                "element": _element}
    if what.text not in handlers or (action in ("insert", "replace") and what.text != "rule"):
        raise reader.unexpected(what, "table, chain, rule, set, map or element")
    handlers[what.text](reader, txn, action, what.text)


def _family(reader: Reader) -> str:
    token = reader.peek()
    if token.kind == "word" and token.text in FAMILIES:
        reader.next()
        if token.text not in MODELLED_FAMILIES:
            raise reader.error(token, f"the {token.text} family is not modelled here "
                               "(ip, ip6 and inet are)")
        return token.text
    return "ip"


# tables


def _table(reader: Reader, txn: Transaction, action: str, _what: str) -> None:
    family = _family(reader)
    name = reader.word("table name")
    key = (family, name.text)
    if action in ("delete", "destroy"):
        if key not in txn.tables:
            if action == "destroy":
                return
            raise reader.error(name, kernel(ENOENT))
        del txn.tables[key]
        return
    if action == "flush":
        table = txn.table(reader, family, name)
        for chain_name in list(table.chains):
            table.writable_chain(chain_name).rules.clear()
        return
    if key in txn.tables:
        if action == "create":
            raise reader.error(name, kernel(EEXIST))
        table = txn.table(reader, family, name)
    else:
        table = txn.new_table(family, name.text)
    if reader.accept("{"):
        _table_body(reader, txn, table)


def _table_block(reader: Reader, txn: Transaction, action: str) -> None:
    family = _family(reader)
    name = reader.word("table name")
    key = (family, name.text)
    table = txn.table(reader, family, name) if key in txn.tables else \
        txn.new_table(family, name.text)
    reader.expect("{")
    _table_body(reader, txn, table)


def _table_body(reader: Reader, txn: Transaction, table: Table) -> None:
    """A table's block: as nft expands it, its chains are made first, then its sets, then
    the rules of each chain in turn, so a rule may name a chain or set declared later."""
    rules, sets = [], []
    while True:
        reader.skip_ends()
        token = reader.next()
        if token.is_("}"):
            break
        if token.is_("comment"):
            table.comment = reader.word("quoted string").text
        elif token.is_("flags"):
            table.flags = (reader.word("table flag").text,)
        elif token.is_("chain"):
            name = reader.word("chain name")
            chain = _declare_chain(reader, table, name, "add")
            reader.expect("{")
            rules += _chain_body(reader, table, chain)
        elif token.is_("set", "map"):
            sets.append((reader.word("set name"), token.text, reader.at))
            _skip_braces(reader)
        else:
            raise reader.unexpected(token, "'}'")
    keep = reader.at
    for name, what, start in sets:
        reader.at = start
        _declare_set(reader, txn, table, name, what, "add")
    for chain, start in rules:
        reader.at = start
        _add_rule(reader, txn, table, chain, None, None)
    reader.at = keep


def _chain_body(reader: Reader, table: Table, chain: Chain) -> list:
    """Read a chain's block; its rules are only located here, and added later."""
    rules = []
    while True:
        reader.skip_ends()
        token = reader.peek()
        if token.is_("}"):
            reader.next()
            return rules
        if token.is_("type"):
            _base_spec(reader, table, chain)
        elif token.is_("comment"):
            reader.next()
            chain.comment = reader.word("quoted string").text
        else:
            rules.append((chain, reader.at))
            while not reader.at_end():
                if reader.peek().is_("{"):
                    _skip_braces(reader)
                else:
                    reader.next()


def _skip_braces(reader: Reader) -> None:
    depth = 0
    while True:
        token = reader.next()
        if token.is_("{"):
            depth += 1
        elif token.is_("}"):
            depth -= 1
            if depth == 0:
                return
        elif token.kind == "end" and not token.text:
            raise reader.unexpected(token, "'}'")


# chains


def _chain(reader: Reader, txn: Transaction, action: str, _what: str) -> None:
    family = _family(reader)
    table_name = reader.word("table name")
    table = txn.table(reader, family, table_name)
    if action in ("delete", "destroy"):
        if reader.accept("handle"):
            handle_token = reader.peek()
            handle = reader.number()
            name = next((c.name for c in table.chains.values() if c.handle == handle), None)
            if name is None:
                raise reader.error(handle_token, kernel(ENOENT))
            token = handle_token
        else:
            token = reader.word("chain name")
            name = token.text
            if name not in table.chains:
                if action == "destroy":
                    return
                raise reader.error(token, kernel(ENOENT))
        if table.references(name):   # its own rules go with it (the kernel flushes them)
            raise reader.error(token, kernel(EBUSY))
        del table.chains[name]
        return
    name = reader.word("chain name")
    if action == "flush":
        if name.text not in table.chains:
            raise reader.error(name, kernel(ENOENT))
        table.writable_chain(name.text).rules.clear()
        return
    chain = _declare_chain(reader, table, name, action)
    if reader.accept("{"):
        _chain_spec(reader, table, chain)


def _declare_chain(reader: Reader, table: Table, name, action: str) -> Chain:
    if name.text in table.chains:
        if action == "create":
            raise reader.error(name, kernel(EEXIST))
        return table.writable_chain(name.text)
    if len(name.text) > 255:
        raise reader.error(name, "Chain name too long")
    chain = Chain(name.text, table.new_handle())
    table.chains[name.text] = chain
    table._copied.add(("chain", name.text))
    return chain


def _chain_spec(reader: Reader, table: Table, chain: Chain) -> None:
    while True:
        reader.skip_ends()
        token = reader.peek()
        if token.is_("}"):
            reader.next()
            return
        if token.is_("type"):
            _base_spec(reader, table, chain)
        elif token.is_("comment"):
            reader.next()
            chain.comment = reader.word("quoted string").text
        else:
            raise reader.unexpected(token, "'}'")


def _base_spec(reader: Reader, table: Table, chain: Chain) -> None:
    start = reader.expect("type")
    kind = reader.word("chain type")
    if kind.text not in CHAIN_TYPES:
        raise reader.error(kind, f"unknown chain type {kind.text}")
    reader.expect("hook")
    hook = reader.word("hook")
    if hook.text not in HOOKS:
        raise reader.error(hook, f"The {table.family} family does not support this hook")
    if hook.text not in CHAIN_TYPES[kind.text]:
        raise reader.error(start, kernel(EOPNOTSUPP))
    reader.expect("priority")
    priority = _priority(reader, hook.text)
    policy = "accept"
    reader.skip_ends()
    if reader.accept("policy"):
        word = reader.word("accept or drop")
        if word.text not in ("accept", "drop"):
            raise reader.unexpected(word, "accept or drop or '$'")
        policy = word.text
    spec = BaseSpec(kind.text, hook.text, priority, policy)
    if chain.base is not None and (chain.base.type, chain.base.hook) != (spec.type, spec.hook):
        raise reader.error(start, kernel(EBUSY))
    if chain.base is None and chain.rules:
        raise reader.error(start, kernel(EBUSY))
    chain.base = spec


def _priority(reader: Reader, hook: str) -> int:
    token = reader.word("priority")
    text = token.text
    if text in PRIORITIES:
        base, hooks = PRIORITIES[text]
        if reader.peek().is_("+") or reader.peek().text in ("+", "-"):
            sign = reader.next().text
            base += reader.number() * (1 if sign == "+" else -1)
        if hook not in hooks:
            raise reader.error(token, "invalid priority expression value in this context.")
        return base
    try:
        return int(text)
    except ValueError:
        raise reader.error(token, "invalid priority expression value in this context.") \
            from None


# rules


def _rule(reader: Reader, txn: Transaction, action: str, _what: str) -> None:
    family = _family(reader)
    table = txn.table(reader, family, reader.word("table name"))
    name = reader.word("chain name")
    if name.text not in table.chains:
        raise reader.error(name, kernel(ENOENT))
    chain = table.writable_chain(name.text)
    where = None
    if reader.peek().is_("position", "handle", "index"):
        kind = reader.next().text
        token = reader.peek()
        where = (kind, reader.number(), token)
    if action in ("delete", "destroy"):
        if where is None or where[0] != "handle":
            raise reader.unexpected(reader.peek(), "handle")
        at = _rule_index(reader, chain, where)
        del chain.rules[at]
        return
    if action == "replace" and (where is None or where[0] != "handle"):
        raise reader.unexpected(reader.peek(), "handle")
    _add_rule(reader, txn, table, chain, action, where)


def _rule_index(reader: Reader, chain: Chain, where) -> int:
    kind, number, token = where
    if kind == "index":
        if number >= len(chain.rules):
            raise reader.error(token, kernel(ENOENT))
        return number
    for index, rule in enumerate(chain.rules):
        if rule.handle == number:
            return index
    raise reader.error(token, kernel(ENOENT))


def _add_rule(reader: Reader, txn: Transaction, table: Table, chain: Chain, action,
              where) -> None:
    start = reader.peek()
    rule = parse_rule(reader, table.family)
    for target in rule_targets(rule):
        if target not in table.chains:
            raise reader.error(_token_of(reader, start, target), kernel(ENOENT))
    for set_name in rule_sets(rule):
        if set_name not in table.sets:
            raise reader.error(_token_of(reader, start, set_name), ENOENT)
    try:
        check(rule.statements, table.sets)
    except ValueError as error:
        raise reader.error(start, str(error)) from None
    for statement in rule.statements:
        if isinstance(statement, SetUpdate):
            updated = table.writable_set(statement.target.name)
            if updated.size is None:
                updated.size = DYNAMIC_SIZE
    for statement in rule.statements:
        nat = getattr(statement, "kind", None) in ("dnat", "snat", "masquerade")
        if nat and chain.base is not None and chain.base.type != "nat":
            raise reader.error(start, kernel(EOPNOTSUPP))
    rule.handle = table.new_handle()
    for statement in rule.statements:   # an anonymous set takes a handle of its own
        if isinstance(getattr(statement, "right", None) or getattr(statement, "target",
                                                                     None), NftSet):
            rule.handle = table.new_handle()
    if action is None or where is None:
        if action == "insert":
            chain.rules.insert(0, rule)
        else:
            chain.rules.append(rule)
        return
    at = _rule_index(reader, chain, where)
    if action == "replace":
        rule.handle = chain.rules[at].handle
        chain.rules[at] = rule
    elif action == "insert":
        chain.rules.insert(at, rule)
    else:
        chain.rules.insert(at + 1, rule)


def _token_of(reader: Reader, start, name: str):
    """The token naming `name` in the rule just read (what nft's caret points at)."""
    for token in reader.tokens[reader.tokens.index(start):reader.at]:
        if token.text == name:
            return token
    return start


# sets, maps and elements


def _set(reader: Reader, txn: Transaction, action: str, what: str) -> None:
    family = _family(reader)
    table = txn.table(reader, family, reader.word("table name"))
    if action in ("delete", "destroy"):
        token = reader.word("set name")
        if token.text not in table.sets:
            if action == "destroy":
                return
            raise reader.error(token, kernel(ENOENT))
        if any(token.text in rule_sets(rule) for chain in table.chains.values()
               for rule in chain.rules):
            raise reader.error(token, kernel(EBUSY))
        del table.sets[token.text]
        return
    name = reader.word("set name")
    if action == "flush":
        if name.text not in table.sets:
            raise reader.error(name, kernel(ENOENT))
        table.writable_set(name.text).flush()
        return
    _declare_set(reader, txn, table, name, what, action)


def _declare_set(reader: Reader, txn: Transaction, table: Table, name, what: str,
                 action: str) -> None:
    existing = table.sets.get(name.text)
    if existing is not None and action == "create":
        raise reader.error(name, kernel(EEXIST))
    reader.expect("{")
    spec: dict = {"flags": ()}
    elements_at = None
    while True:
        reader.skip_ends()
        token = reader.next()
        if token.is_("}"):
            break
        if token.is_("type"):
            types = [set_type(reader.word("data type").text)]
            while reader.accept("."):
                types.append(set_type(reader.word("data type").text))
            spec["key"] = tuple(types)
            if reader.accept(":"):
                data = reader.word("data type")
                spec["data"] = TYPES["verdict"] if data.text == "verdict" else \
                    set_type(data.text)
            if (what == "map") != ("data" in spec):
                raise reader.error(token, "map definition needs `type KEY : VALUE`, a set's "
                                   "has no value" if what == "map" else
                                   "a set's type has no `: VALUE` (that is a map)")
        elif token.is_("flags"):
            flags = [reader.word("set flag").text]
            while reader.accept(","):
                flags.append(reader.word("set flag").text)
            unknown = [f for f in flags if f not in SET_FLAGS]
            if unknown:
                raise reader.error(token, f"syntax error, unexpected {unknown[0]}")
            spec["flags"] = tuple(f for f in SET_FLAGS if f in flags)
        elif token.is_("timeout"):
            spec["timeout"] = parse_duration(reader.word("time").text)
        elif token.is_("size"):
            spec["size"] = reader.number()
        elif token.is_("comment"):
            spec["comment"] = reader.word("quoted string").text
        elif token.is_("policy"):
            reader.word("set policy")
        elif token.is_("elements"):
            reader.expect("=")
            elements_at = reader.at
            _skip_braces(reader)
        else:
            raise reader.unexpected(token, "'}'")
    if existing is not None:
        target = table.writable_set(name.text)
    else:
        if "key" not in spec:
            raise reader.error(name, "set definition does not specify key")
        flags = spec["flags"]
        if "timeout" in spec and "timeout" not in flags:
            flags = tuple(f for f in SET_FLAGS if f in (*flags, "timeout"))
        if "interval" in flags and ("dynamic" in flags or len(spec["key"]) > 1):
            raise reader.error(name, kernel(EOPNOTSUPP))
        target = NftSet(name.text, spec["key"], spec.get("data"), flags, spec.get("timeout"),
                        spec.get("size"), spec.get("comment"), table.new_handle())
        table.sets[name.text] = target
        table._copied.add(("set", name.text))
    if elements_at is not None:
        keep = reader.at
        reader.at = elements_at
        reader.expect("{")
        _add_elements(reader, txn, table, target, "add")
        reader.at = keep


def _element(reader: Reader, txn: Transaction, action: str, _what: str) -> None:
    family = _family(reader)
    table = txn.table(reader, family, reader.word("table name"))
    name = reader.word("set name")
    if name.text not in table.sets:
        raise reader.error(name, kernel(ENOENT))
    target = table.writable_set(name.text)
    reader.expect("{")
    _add_elements(reader, txn, table, target, action)


def _add_elements(reader: Reader, txn: Transaction, table: Table, target: NftSet,
                  action: str) -> None:
    start = reader.peek()
    removing = action in ("delete", "destroy")
    if removing and target.is_map:
        probe = NftSet(target.name, target.key_types)   # deletion names keys only
        elements = parse_elements(reader, probe)
    else:
        elements = parse_elements(reader, target)
    for element in elements:
        try:
            if removing:
                if action == "destroy" and tuple(element.key) not in target.elements:
                    continue
                target.remove(element.key)
            elif action == "flush":
                raise ValueError("syntax error, unexpected element")
            else:
                chain = getattr(element.data, "target", None)
                if chain is not None and chain not in table.chains:
                    raise ValueError(kernel(ENOENT))
                target.add(element, txn.now, create=action == "create")
        except ValueError as error:
            raise reader.error(start, str(error)) from None
