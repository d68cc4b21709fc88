"""What a `:` command is: one entry that says everything the shell, the journal, completion,
the help, the app's palette and the CLI need to know about it."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playground.net.trace import Trace

if TYPE_CHECKING:
    from playground.cluster.cluster import Cluster


class ShellError(ValueError):
    """One line shown under the command line."""


@dataclass
class ShellResult:
    output: str = ""
    trace: Trace | None = None
    traces: list[Trace] = field(default_factory=list)
    changed: bool = False
    replaced: bool = False  # the whole lab was rebuilt
    created: str | None = None  # what the command made, as the app selects it
    legs: list = field(default_factory=list)  # a trace's legs, each with what chose it


@dataclass(frozen=True)
class Call:
    words: list[str]  # the whole line
    args: list[str]  # the words after the command's name
    selected: str | None  # the node or pod the line was run on
    namespace: str | None = None  # where bare names of the selection are looked up


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one ShellError line, as everything on the `:` line."""

    def error(self, message: str):
        raise ShellError(f"{self.prog}: {message}")


def parser(prog: str) -> Parser:
    return Parser(prog=prog, add_help=False)


Handler = Callable[[Any, Call], "ShellResult | Awaitable[ShellResult]"]
Completer = Callable[["Cluster", list[str]], list[str]]


@dataclass(frozen=True)
class Cli:
    """A node tool as `k8s-playground show NAME TARGET ...`."""

    name: str
    help: str
    words: Callable[[argparse.Namespace], list[str]]  # the `:` line it stands for
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None
    stderr_lines: int = 0  # trailing lines the real tool prints on stderr


@dataclass(frozen=True)
class Command:
    name: str  # the words that pick it: "kubectl create service"
    syntax: str  # what follows the name, as the help shows it
    help: str  # one line: what it does
    run: Handler | None  # (shell, call) -> ShellResult; None: the app runs it itself
    selection: bool = False  # acts on the selected node or pod
    replayed: bool = False  # the journal keeps it: its effect lives in the dataplane
    complete: Completer | None = None  # what may follow, given the words after the name
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other spellings
    cli: Cli | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    @property
    def usage(self) -> str:
        return f"{self.name} {self.syntax}".rstrip()

    def spells(self, position: int, word: str) -> bool:
        canonical = self.words[position]
        return word == canonical or word in self.aliases.get(canonical, ())

    def matches(self, words: list[str]) -> bool:
        return len(words) >= len(self.words) and all(
            self.spells(i, word) for i, word in enumerate(words[:len(self.words)]))


def choices(*words: str) -> Completer:
    """The same words whatever came before."""
    return lambda cluster, args: list(words)


def positional(*steps: list[str] | Completer, then: Completer | None = None) -> Completer:
    """One list (or completer) per argument in turn, then `then` for the rest."""
    def complete(cluster: Cluster, args: list[str]) -> list[str]:
        if len(args) < len(steps):
            step = steps[len(args)]
            return step(cluster, args) if callable(step) else list(step)
        return then(cluster, args) if then is not None else []
    return complete
