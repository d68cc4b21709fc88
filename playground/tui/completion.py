"""Tab completion for the `:` command line: the names in the table of commands, then what
each command says may follow, from the objects in the lab."""

from __future__ import annotations

from textual.suggester import Suggester

from playground.cluster.cluster import Cluster
from playground.commands.table import find, next_words


def candidates(words: list[str], cluster: Cluster) -> list[str]:
    """What may come next after these whole words."""
    following = next_words(words)
    command = find(words)
    if command is not None and command.complete is not None:
        following += command.complete(cluster, words[len(command.words):])
    return following


def matches(line: str, cluster: Cluster) -> list[str]:
    """Every completion of the line's last word; a container (pod/NAME:CONTAINER) only once
    its colon is typed."""
    words = line.split(" ")
    last, before = words[-1], [w for w in words[:-1] if w]
    if not last:
        return []
    head = line[:len(line) - len(last)]
    return [head + word for word in dict.fromkeys(candidates(before, cluster))
            if word.startswith(last) and word != last and (":" in last or ":" not in word)]


def complete(line: str, cluster: Cluster) -> str | None:
    """The line with its last word completed, or None when nothing fits."""
    found = matches(line, cluster)
    return found[0] if found else None


class CommandSuggester(Suggester):
    def __init__(self, cluster_of) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cluster_of = cluster_of  # the lab may be replaced, so ask each time

    async def get_suggestion(self, value: str) -> str | None:
        cluster = self.cluster_of()
        return complete(value, cluster) if cluster is not None else None
