"""A chain given as its iptables-save lines and parsed into rules the first time something
needs them (a walk, a counter, a copy).

kube-proxy's service table holds some 470,000 rules for 10,000 Services; almost all sit in
per-Service chains that are shown (iptables-save) far more often than walked, so parsing
them up front is most of the cost of building or loading a big lab.
"""

from __future__ import annotations

from playground.net.netfilter import Chain, Rule, parse_rule

_RULES = Chain.rules   # the slot that holds the parsed rules, under the property below


def target_of(line: str) -> str | None:
    """The -j/-g name of a rule in iptables-save's spelling: every match (and so any quoted
    comment) comes before the target there, and no target option is spelt -j or -g."""
    tail = " " + line[line.rfind('"') + 1:]
    at = max(tail.rfind(" -j "), tail.rfind(" -g "))
    return tail[at + 4:].split(" ", 1)[0] if at >= 0 else None


class SavedChain(Chain):
    """Each line must be exactly what iptables-save prints for its rule (checked when
    parsed), since until then that text is what the chain shows."""

    __slots__ = ("_lines", "_table", "_targets")

    def __init__(self, table: str, name: str, lines: list[str], shared: bool = False) -> None:
        Chain.__init__(self, name, shared=shared)
        self._table, self._lines = table, lines   # kept, not copied: the caller lets go
        self._targets: list[str | None] | None = None

    @property
    def rules(self) -> list[Rule]:
        lines = self._lines
        if lines is not None:
            _RULES.__set__(self, [self._parse(line) for line in lines])
            self._lines = self._targets = None
        return _RULES.__get__(self, Chain)

    @rules.setter
    def rules(self, rules: list[Rule]) -> None:
        _RULES.__set__(self, rules)
        self._lines = self._targets = None

    def __getstate__(self) -> dict:
        """A copy (verify deep-copies the network) stays unparsed if this one is."""
        state = {name: getattr(self, name) for name in Chain.__slots__ if name != "rules"}
        state["rules"] = _RULES.__get__(self, Chain)
        state.update(_lines=self._lines, _table=self._table, _targets=self._targets)
        return state

    def __setstate__(self, state: dict) -> None:
        _RULES.__set__(self, state.pop("rules"))
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def replace(self, start: int, stop: int, lines: list[str]) -> None:
        """Put `lines` in place of the rules from start to stop: as text while the chain is
        unparsed, parsed once it is."""
        if self._lines is not None:
            self._lines[start:stop] = lines
            self._targets = None
        else:
            _RULES.__get__(self, Chain)[start:stop] = [self._parse(line) for line in lines]
        self.changed()

    def _parse(self, line: str) -> Rule:
        rule = parse_rule(self._table, self.name, line)
        if rule.spec() != line:
            raise ValueError(f"{self.name}: `{line}' is not how iptables-save prints it "
                             f"(`{rule.spec()}')")
        return rule

    @property
    def parsed(self) -> bool:
        return self._lines is None

    def target_names(self) -> list[str | None]:
        if self._lines is None:
            return Chain.target_names(self)
        if self._targets is None:
            self._targets = [target_of(line) for line in self._lines]
        return self._targets

    def uses_module(self, name: str) -> bool:
        if self._lines is None:
            return Chain.uses_module(self, name)
        wanted = f"-m {name} "   # in a quoted comment too, at worst: then it is parsed
        return any(wanted in line for line in self._lines) and Chain.uses_module(self, name)

    def save_text(self) -> str:
        if self._lines is None:
            return Chain.save_text(self)
        if self._text is None or self._text[0] != self.version:
            name = self.name
            self._text = (self.version, "".join(f"-A {name} {line}\n" for line in self._lines))
        return self._text[1]
