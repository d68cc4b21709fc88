"""nft's input split into tokens, each with the line and columns nft's errors point at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network

from playground.net.nftables.errors import NftError

# a word runs until a space or one of nft's punctuation marks; `:` is kept inside IPv6
_TOKEN = re.compile(r'"(?P<string>[^"\n]*)"|(?P<op>==|!=|<=|>=|[{};,:<>&|^@!=])|'
                    r'(?P<word>[^\s"{};,:<>&|^@!#=]+)|(?P<bad>\S)')
_IPV6_WORD = re.compile(r"[0-9a-fA-F:.]*:[0-9a-fA-F:./\-]*")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str      # "word", "string", "op", "end" (a newline or `;`)
    text: str
    line: int
    start: int     # columns, 1-based and inclusive, as nft prints them
    stop: int
    source: str = ""

    def is_(self, *texts: str) -> bool:
        return self.kind in ("word", "op") and self.text in texts


def tokenize(text: str, source: str = "") -> list[Token]:
    """Tokens of a whole input; a newline or `;` ends a command (outside braces the
    parser treats them the same), `#` starts a comment."""
    tokens: list[Token] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.split("#", 1)[0] if '"' not in raw else _strip_comment(raw)
        continued = line.rstrip().endswith("\\")
        if continued:
            line = line.rstrip()[:-1]
        position = 0
        while True:
            found = _TOKEN.search(line, position)
            if found is None:
                break
            position = found.end()
            kind = found.lastgroup
            start, stop = found.start() + 1, found.end()
            if kind == "bad":
                raise NftError("syntax error, unexpected junk", source, number, start, stop)
            if kind == "string":
                tokens.append(Token("string", found.group("string"), number, start, stop,
                                    source))
                continue
            word = found.group(kind)
            if word == ";":
                tokens.append(Token("end", ";", number, start, stop, source))
                continue
            if kind == "word" and line[stop:stop + 1] == ":" and _ipv6_follows(line, found):
                whole = re.match(r"[0-9a-fA-F:./\-]+", line[found.start():]).group(0)
                position = found.start() + len(whole)
                tokens.append(Token("word", whole, number, start, position, source))
                continue
            tokens.append(Token(kind, word, number, start, stop, source))
        if not continued:
            tokens.append(Token("end", "\n", number, len(line) + 1, len(line) + 1, source))
    return tokens


def _ipv6_follows(line: str, found) -> bool:
    """Whether the word and the colons after it spell one IPv6 address or prefix."""
    rest = line[found.start():]
    whole = re.match(r"[0-9a-fA-F:./\-]+", rest)
    if whole is None or whole.group(0).count(":") < 2:
        return False
    text = whole.group(0).split("-")[0]
    try:
        (IPv6Network if "/" in text else IPv6Address)(text)
    except ValueError:
        return False
    return _IPV6_WORD.fullmatch(whole.group(0)) is not None


def _strip_comment(line: str) -> str:
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index]
    return line
