"""A replay of nft transactions (what a node's kube-proxy sent) and the agent that records
them, for the nftables mode's tests."""

import re

from playground.proxy.nftables import NftKubeProxy

ELEMENT = re.compile(r"\{ (.+?)( comment \"[^\"]*\")?( : (.+))? \}$")


class Replay:
    """The table's state as the `add`/`flush`/`delete` lines leave it, refusing what nft
    refuses: a rule in a missing chain, deleting what is not there or a chain not empty, a
    map element naming a chain that does not exist."""

    def __init__(self) -> None:
        self.chains: dict[str, list[str]] = {}
        self.sets: dict[str, str] = {}
        self.elements: dict[tuple[str, str], str] = {}

    def run(self, text: str) -> None:
        for line in text.splitlines():
            verb, kind, _, _, rest = line.split(" ", 4)
            name, _, body = rest.partition(" ")
            if kind == "table":
                continue
            if (verb, kind) == ("add", "chain"):
                self.chains.setdefault(name, [])
            elif (verb, kind) == ("flush", "chain"):
                self.chains[name] = []
            elif (verb, kind) == ("delete", "chain"):
                assert self.chains.pop(name) == [], line
            elif (verb, kind) == ("add", "rule"):
                self.chains[name].append(body)
            elif verb == "add" and kind in ("set", "map"):
                self.sets[name] = body
            elif (verb, kind) == ("delete", "set"):
                del self.sets[name]
            elif kind == "element":
                key, _, verdict = ELEMENT.match(body).group(1, 2, 4)
                if verb == "delete":
                    del self.elements[(name, key)]
                    continue
                assert self.elements.setdefault((name, key), body) == body, line
                if verdict and verdict.startswith("goto "):
                    assert verdict[5:] in self.chains, line
            else:
                raise AssertionError(line)

    def state(self):
        return self.chains, self.sets, self.elements


class RecordingProxy(NftKubeProxy):
    """The agent, its nf_tables replaced by a replay of what it sends."""

    def send(self, lines):
        self.replay.run("\n".join(lines))
        self.transactions.append(lines)
