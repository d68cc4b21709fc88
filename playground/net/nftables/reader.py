"""A cursor over tokens with the error helpers both parsers use."""

from __future__ import annotations

from playground.net.nftables.errors import NftError
from playground.net.nftables.lexer import Token


class Reader:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self, ahead: int = 0) -> Token:
        index = self.at + ahead
        if index < len(self.tokens):
            return self.tokens[index]
        last = self.tokens[-1] if self.tokens else Token("end", "\n", 1, 1, 1)
        return Token("end", "", last.line, last.stop + 1, last.stop + 1, last.source)

    def next(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def at_end(self) -> bool:
        return self.peek().kind == "end"

    def accept(self, *texts: str) -> Token | None:
        if self.peek().is_(*texts):
            return self.next()
        return None

    def expect(self, text: str, expecting: str | None = None) -> Token:
        token = self.peek()
        if not token.is_(text):
            raise self.unexpected(token, expecting or f"'{text}'")
        return self.next()

    def word(self, expecting: str = "string") -> Token:
        token = self.peek()
        if token.kind not in ("word", "string"):
            raise self.unexpected(token, expecting)
        return self.next()

    def number(self, expecting: str = "number") -> int:
        token = self.word(expecting)
        try:
            text = token.text
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            raise self.error(token, f"syntax error, unexpected string, expecting "
                                    f"{expecting}") from None

    def skip_ends(self) -> None:
        while self.peek().kind == "end" and self.peek().text:
            self.next()

    def unexpected(self, token: Token, expecting: str) -> NftError:
        if token.kind == "end":
            what = "newline" if token.text in ("\n", "") else "semicolon"
        elif token.kind == "string":
            what = "quoted string"
        elif token.kind == "op":
            what = f"'{token.text}'"
        else:
            what = token.text if token.text.isalpha() else "string"
        return self.error(token, f"syntax error, unexpected {what}, expecting {expecting}")

    @staticmethod
    def error(token: Token, why: str) -> NftError:
        return NftError(why, token.source, token.line, token.start, max(token.start,
                                                                         token.stop))
