"""The HTTP request parts `trace` takes on the command line and the `:` line, refused in one
line when they are not what HTTP allows (RFC 9110 tokens)."""

from __future__ import annotations

import argparse
import re

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def http_method(text: str) -> str:
    if not TOKEN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an HTTP method (a token, e.g. GET)")
    return text


def http_header(text: str) -> tuple[str, str]:
    """NAME:VALUE, as curl -H takes it: the value without the blanks around it."""
    name, colon, value = text.partition(":")
    if not colon or not TOKEN.match(name):
        raise argparse.ArgumentTypeError(f"{text!r} is not a header: give NAME:VALUE, the "
                                         "name a token (e.g. x-env:canary)")
    return name, value.strip()
