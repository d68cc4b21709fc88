"""The `:` command line: it finds each line's command in the table (playground/commands)
and runs it, on the selected node or pod for the node tools.

It drives the same Cluster actions as the CLI and tests; the app only shows the result.
"""

from __future__ import annotations

import inspect
import shlex

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.targets import resolve
from playground.commands.base import Call, ShellError, ShellResult
from playground.commands.table import find, not_found
from playground.limits import LimitError, check_command_line
from playground.net.netns import Namespace, NetError
from playground.net.trace import Trace
from playground.numbers import NumberError

__all__ = ["Shell", "ShellError", "ShellResult", "split"]


def split(line: str) -> list[str]:
    try:
        check_command_line(line)
        return shlex.split(line)
    except LimitError as error:
        raise ShellError(str(error)) from None
    except ValueError as error:
        raise ShellError(f"cannot read the command: {error}") from None


class Shell:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.last: Trace | None = None  # what `reply` answers

    async def run(self, line: str, selected: str | None = None,
                  namespace: str | None = None) -> ShellResult:
        """Run one command; `selected` is the node or pod the node tools act on, and
        `namespace` where a bare name in it is looked up (kubectl's -n)."""
        words = split(line)
        if not words:
            return ShellResult()
        command = find(words)
        if command is None:
            raise ShellError(not_found(words))
        if command.run is None:
            raise ShellError(f"{command.name}: a command of the app, on the lab as a whole")
        call = Call(words, words[len(command.words):], selected, namespace)
        try:
            result = command.run(self, call)
            return await result if inspect.isawaitable(result) else result
        except (ClusterError, NetError, NumberError, LimitError) as error:
            raise ShellError(str(error)) from None

    def namespace(self, call: Call) -> Namespace:
        """The network namespace of the selected node or pod."""
        if call.selected is None:
            raise ShellError("select a node or a pod first")
        target = resolve(self.cluster, call.selected, call.namespace)
        if not target.namespace:
            raise ClusterError(f"{call.selected}: no pod or node has the address {target.ip}")
        return self.cluster.network.namespace(target.namespace)
