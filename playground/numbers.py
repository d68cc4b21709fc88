"""Whole numbers typed by people: ASCII digits only, the one parser every command line,
manifest port and lab file history uses.

`str.isdigit()` is true for "²" and "٣", and `int()` takes "٣", " 3", "+3" and "3_000";
neither is what a port, a metric or a count typed at a shell looks like.
"""

from __future__ import annotations

import argparse
import re

_DIGITS = re.compile(r"[0-9]+")


class NumberError(ValueError):
    """A word that is not a whole number in range; the message names what was expected."""


def is_whole(text: str) -> bool:
    """True for ASCII digits only: "80", "007"; false for "", "-1", "8²", "٨٠", " 8"."""
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def whole(text: str, what: str = "value", low: int | None = None,
          high: int | None = None) -> int:
    """`text` as an int within [low, high]; NumberError naming `what` otherwise."""
    if not is_whole(text):
        raise NumberError(f"{what}: {text!r} is not a whole number (digits 0-9 only)")
    if len(text) > 20:  # no bound here needs more, and int() of a long text costs time
        raise NumberError(f"{what}: {text[:24]!r}... is too long a number")
    value = int(text)
    if low is not None and value < low or high is not None and value > high:
        raise NumberError(f"{what}: {value} is out of range ({_span(low, high)})")
    return value


def _span(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"{low}-{high}"


def argument(low: int | None = None, high: int | None = None):
    """An argparse `type=` that reads a whole number in range; argparse names the option."""
    def parse(text: str) -> int:
        try:
            return whole(text, "value", low, high)
        except NumberError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix("value: ")) from None
    parse.__name__ = "whole number"
    return parse


def port_or_name(text: str, what: str) -> int | str:
    """A port given as a number (1-65535) or, when it holds a letter, as a port's name."""
    if is_whole(text):
        return whole(text, what, 1, 65535)
    return text


PORT = argument(1, 65535)
SEED = argument(0, 2**63 - 1)
