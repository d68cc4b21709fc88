"""A rule's text turned into statements: expressions, relations, set literals, verdicts."""

from __future__ import annotations

from playground.net.nftables.deps import default_reject, settle
from playground.net.nftables.errors import NftError
from playground.net.nftables.expr import (
    BINOPS,
    CT,
    FIB_FLAGS,
    META,
    PAYLOAD,
    Binop,
    Concat,
    Ct,
    Expr,
    Fib,
    Meta,
    Numgen,
    Payload,
)
from playground.net.nftables.reader import Reader
from playground.net.nftables.sets import Element, NftSet, Verdict
from playground.net.nftables.stmt import (
    FLAG_TYPES,
    REJECT_ICMP,
    REJECT_ICMPX,
    Counter,
    Log,
    Mangle,
    Match,
    Nat,
    Notrack,
    Queue,
    Reject,
    Rule,
    SetRef,
    SetUpdate,
    VerdictStmt,
    Vmap,
)
from playground.net.nftables.timefmt import parse_duration
from playground.net.nftables.types import TYPES, DataType, Interval

VERDICTS = ("accept", "drop", "return", "continue")
BARE_META = ("mark", "iifname", "oifname", "iif", "oif", "l4proto", "nfproto")
OPS = ("==", "!=", "<", ">", "<=", ">=", "eq", "ne", "lt", "gt", "le", "ge")
OP_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
EXPR_STARTS = ("ip", "tcp", "udp", "sctp", "th", "meta", "ct", "fib", "numgen", *BARE_META)


def parse_rule(reader: Reader, family: str) -> Rule:
    start = reader.peek()
    statements, comment = [], None
    while not reader.at_end():
        token = reader.peek()
        if token.is_("comment"):
            reader.next()
            comment = reader.word("quoted string").text
            continue
        statements.append(_statement(reader, family))
    if not statements:
        raise reader.unexpected(reader.peek(), "statement")
    try:
        return Rule(settle(statements, family), comment=comment)
    except ValueError as error:
        raise reader.error(start, str(error)) from None


def _statement(reader: Reader, family: str):
    token = reader.peek()
    word = token.text if token.kind == "word" else ""
    if word in VERDICTS:
        reader.next()
        return VerdictStmt(Verdict(word))
    if word in ("jump", "goto"):
        reader.next()
        return VerdictStmt(Verdict(word, reader.word("chain name").text))
    if word == "counter":
        reader.next()
        counter = Counter()
        if reader.accept("packets"):
            counter.packets = reader.number()
            reader.expect("bytes")
            counter.bytes = reader.number()
        return counter
    if word == "log":
        reader.next()
        prefix = None
        while reader.peek().is_("prefix", "level"):
            option = reader.next().text
            value = reader.word().text
            if option == "prefix":
                prefix = value
        return Log(prefix)
    if word == "reject":
        return _reject(reader, family)
    if word in ("dnat", "snat", "masquerade"):
        return _nat(reader, family)
    if word == "queue":
        return _queue(reader)
    if word == "notrack":
        reader.next()
        return Notrack()
    if word in ("update", "add") and reader.peek(1).is_("@"):
        reader.next()
        reader.next()
        target = SetRef(reader.word("set name").text)
        reader.expect("{")
        key = _expression(reader)
        timeout = None
        if reader.accept("timeout"):
            timeout = parse_duration(reader.word("time").text)
        reader.expect("}")
        return SetUpdate(word, key, target, timeout)
    if word in EXPR_STARTS:
        return _relation(reader)
    raise reader.unexpected(token, "end of file")


def _relation(reader: Reader):
    left = _expression(reader)
    if reader.accept("vmap"):
        return Vmap(left, _set_operand(reader, left, verdicts=True))
    if reader.peek().is_("set") and isinstance(left, Meta | Ct) and left.key == "mark":
        reader.next()
        return Mangle(left, _mark_value(reader, left))
    if isinstance(left, Meta) and left.key == "nftrace" and reader.accept("set"):
        return Mangle(left, reader.number())
    op = "implicit"
    if reader.peek().is_(*OPS):
        op = OP_WORDS.get(reader.peek().text, reader.peek().text)
        reader.next()
    if reader.peek().is_("@", "{"):
        operand = _set_operand(reader, left)
        if isinstance(operand, NftSet) and len(operand.elements) == 1 and \
                len(operand.key_types) == 1:
            (element,) = operand.elements.values()   # nft makes `{ x }` a plain `x`
            operand = element.key[0]
        return Match(left, "==" if op == "implicit" else op, operand)
    value = _values(reader, left)
    if op == "implicit" and left.dtype.name not in FLAG_TYPES:
        op = "=="
    return Match(left, op, value)


def _mark_value(reader: Reader, key: Meta | Ct):
    token = reader.peek()
    if token.kind == "word" and token.text in ("mark", "meta", "ct"):
        return _expression(reader)
    return _parse_value(reader, key.dtype)


def _expression(reader: Reader) -> Expr:
    items = [_binop(reader)]
    while reader.peek().is_("."):
        reader.next()
        items.append(_binop(reader))
    return items[0] if len(items) == 1 else Concat(tuple(items))


def _binop(reader: Reader) -> Expr:
    expr = _primary(reader)
    while reader.peek().kind in ("word", "op") and reader.peek().text in BINOPS:
        op = BINOPS[reader.next().text]
        expr = Binop(op, expr, _parse_value(reader, expr.dtype))
    return expr


def _primary(reader: Reader) -> Expr:
    token = reader.word("expression")
    word = token.text
    if word in ("ip", "tcp", "udp", "sctp", "th"):
        field = reader.word("payload field")
        if (word, field.text) not in PAYLOAD:
            raise reader.unexpected(field, f"{word} header field")
        return Payload(word, field.text)
    if word == "meta" or word in BARE_META:
        key = reader.word("meta key").text if word == "meta" else word
        if key not in META and key != "nftrace":
            raise reader.error(token, f"syntax error, unexpected {key}")
        return Meta(key)
    if word == "ct":
        key = reader.word("ct key")
        if key.text not in CT:
            raise reader.unexpected(key, "ct key")
        return Ct(key.text)
    if word == "fib":
        flags = [reader.word("fib flag").text]
        while reader.accept("."):
            flags.append(reader.word("fib flag").text)
        if any(flag not in FIB_FLAGS for flag in flags):
            raise reader.error(token, "syntax error, unexpected fib flag")
        reader.expect("type", "'type'")
        return Fib(tuple(flags))
    if word == "numgen":
        reader.expect("random", "'random' or 'inc'")
        reader.expect("mod")
        modulus = reader.number()
        offset = reader.number() if reader.accept("offset") else 0
        if modulus == 0:
            raise reader.error(token, "Numgen modulus cannot be zero")
        return Numgen(modulus, offset)
    raise reader.unexpected(token, "expression")


def _parse_value(reader: Reader, dtype: DataType):
    token = reader.word(dtype.name)
    try:
        return dtype.parse(token.text)
    except NftError as error:
        raise reader.error(token, error.why) from None


def _flag_value(reader: Reader, dtype: DataType) -> int:
    value = _parse_value(reader, dtype)
    while reader.accept(","):
        value |= _parse_value(reader, dtype)
    return value


def _values(reader: Reader, left: Expr):
    """The right side of a relation: one value, or `a . b . c` for a concatenation."""
    parts = left.parts
    values = []
    for index, part in enumerate(parts):
        if index:
            reader.expect(".", "'.'")
        if part.dtype.name in FLAG_TYPES:
            values.append(_flag_value(reader, part.dtype))
        else:
            values.append(_parse_value(reader, part.dtype))
    return values[0] if len(values) == 1 else tuple(values)


def _set_operand(reader: Reader, key: Expr, verdicts: bool = False):
    if reader.accept("@"):
        return SetRef(reader.word("set name").text)
    reader.expect("{", "'{' or '@'")
    types = tuple(part.dtype for part in key.parts)
    anonymous = NftSet("", types, TYPES["verdict"] if verdicts else None, anonymous=True)
    for element in parse_elements(reader, anonymous, closing=True):
        if any(isinstance(v, Interval) for v in element.key):
            anonymous.flags = ("interval",)
        try:
            anonymous.add(element, 0.0)
        except ValueError as error:
            raise reader.error(reader.peek(), str(error)) from None
    return anonymous


def parse_elements(reader: Reader, target: NftSet, closing: bool = True) -> list[Element]:
    """`a, b . c timeout 10s comment "x" : verdict, ...` up to the closing brace."""
    elements = []
    while True:
        reader.skip_ends()
        if reader.accept("}"):
            break
        values = []
        for index, dtype in enumerate(target.key_types):
            if index:
                reader.expect(".", "'.'")
            values.append(_parse_value(reader, dtype))
        element = Element(tuple(values))
        while reader.peek().is_("timeout", "expires", "comment"):
            option = reader.next().text
            if option == "comment":
                element.comment = reader.word("quoted string").text
            else:
                seconds = parse_duration(reader.word("time").text)
                if option == "timeout":
                    element.timeout = seconds
        if target.is_map:
            reader.expect(":", "':'")
            element.data = parse_verdict(reader) if target.data_type.name == "verdict" \
                else _parse_value(reader, target.data_type)
        elements.append(element)
        reader.skip_ends()
        if not reader.accept(","):
            reader.skip_ends()
            reader.expect("}", "comma or '}'")
            break
    return elements


def parse_verdict(reader: Reader) -> Verdict:
    token = reader.word("verdict")
    if token.text in VERDICTS:
        return Verdict(token.text)
    if token.text in ("jump", "goto"):
        return Verdict(token.text, reader.word("chain name").text)
    raise reader.unexpected(token, "verdict")


def _reject(reader: Reader, family: str) -> Reject:
    reader.next()
    if not reader.accept("with"):
        return default_reject(family)
    kind = reader.word("'icmp', 'icmpx' or 'tcp'")
    if kind.text == "tcp":
        reader.expect("reset")
        return Reject("tcp reset", family=family)
    if kind.text not in ("icmp", "icmpx"):
        raise reader.unexpected(kind, "'icmp', 'icmpx' or 'tcp'")
    reader.accept("type")
    code = reader.word("icmp type")
    names = REJECT_ICMPX if kind.text == "icmpx" else REJECT_ICMP
    if code.text not in names:
        raise reader.error(code, f"Could not parse {kind.text} code type")
    return Reject(kind.text, code.text, family)


def _nat(reader: Reader, family: str) -> Nat:
    kind = reader.next()
    nat = Nat(kind.text)
    if kind.text != "masquerade":
        if reader.peek().is_("ip", "ip6"):
            nat.family = reader.next().text
        elif family == "inet":
            raise reader.error(kind, f"specify `{kind.text} ip' or '{kind.text} ip6' in inet "
                               "table to disambiguate")
        reader.expect("to", "'to'")
        if not reader.peek().is_(":"):
            nat.address = _parse_value(reader, TYPES["ipv4_addr"])
            if isinstance(nat.address, Interval):
                raise reader.error(reader.peek(-1), "address ranges are not modelled here")
    elif reader.accept("to") and not reader.peek().is_(":"):
        raise reader.unexpected(reader.peek(), "':'")
    if reader.accept(":"):
        port = _parse_value(reader, TYPES["inet_service"])
        nat.port = (port.low, port.high) if isinstance(port, Interval) else (port, port)
    flags = []
    while reader.peek().is_("random", "fully-random", "persistent"):
        flags.append(reader.next().text)
        reader.accept(",")
    nat.flags = tuple(flags)
    return nat


def _queue(reader: Reader) -> Queue:
    reader.next()
    flags = []
    while reader.peek().is_("bypass", "fanout", "flags"):
        word = reader.next().text
        if word != "flags":
            flags.append(word)
        while reader.accept(","):
            flags.append(reader.word("queue flag").text)
    low = high = 0
    if reader.accept("num") or reader.accept("to"):
        number = _parse_value(reader, TYPES["integer"])
        low, high = (number.low, number.high) if isinstance(number, Interval) \
            else (number, number)
    while reader.peek().is_("bypass", "fanout"):
        flags.append(reader.next().text)
    return Queue(low, high, tuple(flags))
