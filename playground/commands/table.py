"""The table of `:` commands, gathered from the family modules, and what everything that
reads it asks: which command a line is, what may come next, what the journal replays."""

from __future__ import annotations

from playground.commands import dns_tools, kubectl, lab, node_tools, packets
from playground.commands.base import Command

FAMILIES = (kubectl, lab, packets, node_tools, dns_tools)  # in the order help lists them
COMMANDS: tuple[Command, ...] = tuple(c for family in FAMILIES for c in family.COMMANDS)


def find(words: list[str]) -> Command | None:
    """The command these words run: the longest name they start with."""
    found = [command for command in COMMANDS if command.matches(words)]
    return max(found, key=lambda command: len(command.words), default=None)


def replayed(words: list[str]) -> bool:
    """Whether the journal keeps this line: its effect lives in the dataplane."""
    command = find(words)
    return command is not None and command.replayed


def under(words: list[str]) -> list[Command]:
    """The commands whose names go on from these words."""
    return [c for c in COMMANDS if len(c.words) > len(words)
            and all(c.spells(i, word) for i, word in enumerate(words))]


def next_words(words: list[str]) -> list[str]:
    found: list[str] = []
    for command in under(words):
        word = command.words[len(words)]
        if word not in found:
            found.append(word)
    return found


def not_found(words: list[str]) -> str:
    """One line on a line no command fits: what does exist where it went wrong."""
    known = 0
    while known < len(words) and under(words[:known + 1]):
        known += 1
    given = " ".join(words[:known + 1])
    if known == 0:
        return (f"unknown command {words[0]!r}: try {', '.join(next_words([]))} "
                "(? for help)")
    options = under(words[:known])
    if len(options) == 1:
        return f"{given}: only `{options[0].usage}` is modelled here"
    if known == len(words):
        return f"{given}: say what to do ({', '.join(next_words(words[:known]))})"
    return f"{given}: not supported here ({', '.join(next_words(words[:known]))})"


def replayed_names() -> list[str]:
    return [command.name for command in COMMANDS if command.replayed]


def app_commands() -> list[Command]:
    """The commands the app runs on the lab as a whole, not the shell."""
    return [command for command in COMMANDS if command.run is None]


def node_tools() -> list[Command]:
    """The commands `k8s-playground show` runs on a TARGET."""
    return [command for command in COMMANDS if command.cli is not None]
