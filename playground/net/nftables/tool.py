"""The `nft` command line: options, then `list ...` to look or a command to change."""

from __future__ import annotations

import json
from pathlib import Path

from playground.net.nftables.core import Nftables
from playground.net.nftables.errors import NftError

OPTIONS = {"-a": "handles", "--handle": "handles", "-j": "json", "--json": "json",
           "-n": None, "-s": None, "--stateless": None}
CHANGES = ("add", "create", "insert", "replace", "delete", "destroy", "flush")
MAX_FILE = 16 * 1024 * 1024


def nft(tables: Nftables, argv: list[str]) -> tuple[str, bool]:
    """Run `nft ARGV`: (what it prints, whether the ruleset changed). Errors are NftError."""
    flags, words, file = set(), list(argv), None
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in ("-f", "--file"):
            if not words:
                raise NftError("option requires an argument -- 'f'")
            file = words.pop(0)
        elif option in OPTIONS:
            if OPTIONS[option]:
                flags.add(OPTIONS[option])
        else:
            raise NftError(f"unrecognized option '{option}'")
    if file is not None:
        if words:
            raise NftError("syntax error, -f FILE takes no command after it")
        tables.run(_read(file), file)
        return "", True
    if not words:
        raise NftError("no command given (try `nft list ruleset`)")
    if words[0] == "list":
        shown = tables.list(words[1:], handles="handles" in flags, as_json="json" in flags)
        return (json.dumps(shown) + "\n") if isinstance(shown, dict) else shown, False
    if words[0] in CHANGES:
        tables.command(words)
        return "", True
    raise NftError(f"syntax error, unexpected {words[0]}")


def _read(file: str) -> str:
    path = Path(file).expanduser()
    try:
        if path.stat().st_size > MAX_FILE:
            raise NftError(f"File {file} is too large for the model (over 16 MiB)")
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise NftError(f"Could not open file \"{file}\": {why}") from None
