"""The iptables command line (and iptables-restore's rule lines), read as iptables' own
do_parse reads them."""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from playground.net.netfilter.core import Rule
from playground.net.netfilter.matches import MATCHES
from playground.net.netfilter.targets import _TARGET_OPTIONS, _build_target
from playground.net.netfilter.values import (
    _DIGITS,
    _PROTO_NAMES,
    TABLES,
    IptablesError,
    _interface,
    _networks,
    _no_table,
    _param,
    _protocol,
)

if TYPE_CHECKING:
    from ipaddress import IPv4Network

    from playground.net.netfilter.matches.base import Match


_COMMANDS = {
    "-A": "A", "--append": "A", "-C": "C", "--check": "C", "-D": "D", "--delete": "D",
    "-I": "I", "--insert": "I", "-R": "R", "--replace": "R", "-L": "L", "--list": "L",
    "-S": "S", "--list-rules": "S", "-F": "F", "--flush": "F", "-Z": "Z", "--zero": "Z",
    "-N": "N", "--new-chain": "N", "-X": "X", "--delete-chain": "X", "-P": "P",
    "--policy": "P", "-E": "E", "--rename-chain": "E",
}
_GENERIC = {
    "-s": "s", "--source": "s", "--src": "s", "-d": "d", "--destination": "d", "--dst": "d",
    "-i": "i", "--in-interface": "i", "-o": "o", "--out-interface": "o", "-p": "p",
    "--protocol": "p", "-m": "m", "--match": "m", "-j": "j", "--jump": "j", "-g": "g",
    "--goto": "g", "-t": "t", "--table": "t", "-c": "c", "--set-counters": "c",
    "-W": "W", "--wait-interval": "W", "--modprobe": "M",
}
_IGNORED_FLAGS = {"-v", "--verbose", "-n", "--numeric", "-x", "--exact", "--line-numbers"}
_SHORT_WITH_ARG = {"-A", "-C", "-D", "-I", "-R", "-N", "-P", "-E", "-s", "-d", "-i", "-o",
                   "-p", "-m", "-j", "-g", "-t", "-W"}
_RULE_COMMANDS = ("A", "C", "D", "I", "R")


@dataclass(slots=True)
class _Command:
    op: str = ""
    table: str = "filter"
    chain: str | None = None
    rulenum: int | None = None
    extra: str | None = None       # -P policy, -E new name
    rules: list[Rule] = field(default_factory=list)


class _ArgvParser:
    """Reads iptables arguments left to right, as getopt and iptables' do_parse do."""

    def __init__(self, args: list[str], in_restore: bool) -> None:
        self.args, self.pos, self.in_restore = list(args), 0, in_restore
        self.cmd = _Command()
        self.invert = False
        self.rule = Rule()
        self.srcs: list[IPv4Network] = []
        self.dsts: list[IPv4Network] = []
        self.seen: set[str] = set()
        self.spec_options: list[str] = []
        self.matches: list[Match] = []
        self.match_seen: dict[int, set[str]] = {}
        self.proto_loaded = False
        self.target: str | None = None
        self.target_opts: dict[str, str | None] = {}
        self.counters: tuple[int, int] | None = None

    def run(self) -> _Command:
        while self.pos < len(self.args):
            token = self.args[self.pos]
            self.pos += 1
            if token == "!":
                if self.invert:
                    raise _param("multiple consecutive ! not allowed")
                self.invert = True
                continue
            if not token.startswith("-") or token in ("-", "--"):
                raise _param(f"Bad argument `{token}'")
            if token.startswith("--") and "=" in token:
                token, value = token.split("=", 1)
                self.args.insert(self.pos, value)
            elif not token.startswith("--") and len(token) > 2:
                if token[:2] not in _SHORT_WITH_ARG:
                    raise _param(f"unknown option \"{token}\"")
                self.args.insert(self.pos, token[2:])
                token = token[:2]
            self._option(token)
        if self.invert:
            raise _param("nothing appropriate following !")
        return self._finish()

    # token helpers

    def _take(self, option: str) -> str:
        if self.pos >= len(self.args):
            raise _param(f"option \"{option}\" requires an argument")
        self.pos += 1
        return self.args[self.pos - 1]

    def _maybe(self) -> str | None:
        """An optional argument: the next token unless it looks like an option."""
        if self.pos < len(self.args) and not self.args[self.pos].startswith(("-", "!")):
            self.pos += 1
            return self.args[self.pos - 1]
        return None

    def _no_invert(self, option: str) -> None:
        if self.invert:
            raise _param(f"cannot have ! before {option}")

    @staticmethod
    def _rulenum(text: str) -> int:
        if not _DIGITS.fullmatch(text) or int(text) < 1:
            raise _param(f"Invalid rule number `{text}'")
        return int(text)

    # options

    def _option(self, option: str) -> None:
        if option in _COMMANDS:
            self._command(_COMMANDS[option], option)
        elif option in _GENERIC:
            self._generic(_GENERIC[option], option)
        elif option in _IGNORED_FLAGS:
            self._no_invert(option)
        elif option in ("-w", "--wait"):
            self._no_invert(option)
            if self.pos < len(self.args) and re.fullmatch(r"[0-9.]+", self.args[self.pos]):
                self.pos += 1
        else:
            self._extension(option)

    def _command(self, op: str, option: str) -> None:
        self._no_invert(option)
        if self.cmd.op:
            raise _param(f"Cannot use -{op} with -{self.cmd.op}")
        self.cmd.op = op
        if op in ("A", "C", "D", "I", "R", "N", "P", "E"):
            self.cmd.chain = self._take(option)
        else:
            self.cmd.chain = self._maybe()
        if op == "R":
            self.cmd.rulenum = self._rulenum(self._take(option))
        elif op in ("D", "I", "Z", "L", "S") and self.cmd.chain is not None:
            number = self._maybe()
            if number is not None:
                self.cmd.rulenum = self._rulenum(number)
        if op in ("P", "E"):
            self.cmd.extra = self._take(option)

    def _generic(self, key: str, option: str) -> None:
        if key in "sdiop":
            if key in self.seen:
                raise _param(f"multiple -{key} flags not allowed")
            self.seen.add(key)
            self.spec_options.append(f"-{key}")
            value, inverted, self.invert = self._take(option), self.invert, False
            rule = self.rule
            if key == "s":
                self.srcs, rule.src_inv = _networks(value), inverted
            elif key == "d":
                self.dsts, rule.dst_inv = _networks(value), inverted
            elif key == "i":
                rule.in_iface, rule.in_inv = _interface(value), inverted
            elif key == "o":
                rule.out_iface, rule.out_inv = _interface(value), inverted
            else:
                rule.proto, rule.proto_inv = _protocol(value), inverted
            return
        if key == "m":
            if self.invert:
                raise _param("unexpected ! flag before --match")
            name = self._take(option)
            factory = MATCHES.get(name)
            if factory is None:
                raise _param(f"Couldn't load match `{name}':No such file or directory")
            self.matches.append(factory())
            self.spec_options.append("-m")
            return
        self._no_invert(option)
        if key in "jg":
            if self.target is not None:
                raise _param("multiple -j flags not allowed")
            self.target = self._take(option)
            self.rule.goto = key == "g"
            self.spec_options.append(f"-{key}")
        elif key == "t":
            value = self._take(option)
            if self.in_restore:
                raise _param("The -t option cannot be used in iptables-restore.")
            if "t" in self.seen:
                raise _param("multiple -t flags not allowed")
            if value not in TABLES:
                raise _no_table(value)
            self.seen.add("t")
            self.cmd.table = value
        elif key == "c":
            packets, size = self._take(option), self._take(option)
            if not (_DIGITS.fullmatch(packets) and _DIGITS.fullmatch(size)):
                raise _param("-c packet counter not numeric")
            self.counters = (int(packets), int(size))
        else:  # -W, --modprobe: accepted and ignored
            self._take(option)

    def _extension(self, option: str) -> None:
        """Target options first, then the loaded modules, then -p's implicit module."""
        known = _TARGET_OPTIONS.get(self.target or "", {})
        if option in known:
            self._no_invert(option)
            if option in self.target_opts:
                raise _param(f"{self.target}: option \"{option}\" can only be used once.")
            self.target_opts[option] = self._take(option) if known[option] else None
            return
        for match in self.matches:
            if option in match.options():
                self._feed(match, option)
                return
        name = _PROTO_NAMES.get(self.rule.proto)
        if (name in ("tcp", "udp", "sctp", "icmp") and not self.proto_loaded
                and not any(m.name == name for m in self.matches)):
            self.proto_loaded = True
            match = MATCHES[name]()
            self.matches.append(match)
            if option in match.options():
                self._feed(match, option)
                return
        raise _param(f"unknown option \"{option}\"")

    def _feed(self, match: Match, option: str) -> None:
        canonical, count, invertible = match.options()[option]
        if self.invert and not invertible:
            raise _param(f"{match.name}: option \"--{canonical}\" cannot be inverted.")
        seen = self.match_seen.setdefault(id(match), set())
        if canonical in seen:
            raise _param(f"{match.name}: option \"--{canonical}\" can only be used once.")
        seen.add(canonical)
        args = [self._take(option) for _ in range(count)]
        match.parse(canonical, args, self.invert)
        self.invert = False

    def _finish(self) -> _Command:
        cmd = self.cmd
        if not cmd.op:
            raise _param("no command specified")
        wants_rule = cmd.op in ("A", "C", "I", "R") or (cmd.op == "D" and cmd.rulenum is None)
        if not wants_rule:
            if self.spec_options:
                raise _param(f"Illegal option `{self.spec_options[0]}' with this command")
            if cmd.op == "P" and cmd.table == "nat" and cmd.extra == "DROP":
                raise _nat_drop()
            return cmd
        base = self.rule
        if base.in_iface and cmd.chain in ("OUTPUT", "POSTROUTING"):
            raise _param(f"Can't use -i with {cmd.chain}")
        if base.out_iface and cmd.chain in ("PREROUTING", "INPUT"):
            raise _param(f"Can't use -o with {cmd.chain}")
        for match in self.matches:
            match.finish(base)
        if self.target is not None:
            if self.target == "DROP" and cmd.table == "nat":
                raise _nat_drop()
            base.target = _build_target(self.target, self.target_opts, base)
        srcs, dsts = self.srcs or [None], self.dsts or [None]
        if cmd.op == "R" and len(srcs) * len(dsts) > 1:
            raise _param("Replacement rule does not specify a unique address")
        if len(srcs) == 1 and len(dsts) == 1:   # one rule: it can keep the parsed matches
            base.src, base.dst, base.matches = srcs[0], dsts[0], list(self.matches)
            if self.counters:
                base.packets, base.bytes = self.counters
            cmd.rules.append(base)
            return cmd
        for src in srcs:
            for dst in dsts:
                rule = replace(base, src=src, dst=dst,
                               matches=[match.clone() for match in self.matches])
                if self.counters:
                    rule.packets, rule.bytes = self.counters
                cmd.rules.append(rule)
        return cmd


def _parse_command(argv: list[str]) -> _Command:
    if argv and argv[0] == "iptables":
        argv = argv[1:]
    return _ArgvParser(argv, in_restore=False).run()


@functools.lru_cache(maxsize=4096)
def _parsed_command(text: str) -> _Command:
    """A command line parsed once: every node runs the same agents' commands. Only copies
    made by _fresh_rules ever reach a table."""
    try:
        argv = shell_words(text)
    except ValueError as error:
        raise IptablesError(f"iptables: {error}") from None
    cmd = _parse_command(argv)
    for rule in cmd.rules:
        rule.spec()   # rendered once, kept by every copy
    return cmd


def _fresh_rules(cmd: _Command) -> _Command:
    """The command with rules of its own: a table counts packets on its rules."""
    rules = []
    for rule in cmd.rules:
        copy_ = rule.clone()
        copy_._spec = rule._spec
        rules.append(copy_)
    return replace(cmd, rules=rules)


def _nat_drop() -> IptablesError:
    return _param("The \"nat\" table is not intended for filtering, the use of DROP is "
                  "therefore inhibited.")


_SHELL_WORD = re.compile(r'(?:[^ \t\r\n"]+|"[^"]*")+')


def shell_words(text: str) -> list[str]:
    """shlex.split, without its character-at-a-time loop for a line with neither single
    quotes nor backslashes (then a double quote only opens or closes a quoted part)."""
    if "'" in text or "\\" in text or text.count('"') % 2:
        return shlex.split(text)
    return [word.replace('"', "") for word in _SHELL_WORD.findall(text)]


_PLAIN_LINE = re.compile(r'[ \t\n]*(?:(?:"[^"\\]*"|[^ \t\n"\\]+)(?:[ \t\n]+|$))*')
_PLAIN_ARG = re.compile(r'"([^"\\]*)"|([^ \t\n"\\]+)')


def _restore_args(line: str) -> list[str]:
    """Split a rule line as iptables-restore does: double quotes, backslash inside them."""
    if _PLAIN_LINE.fullmatch(line):   # whole words and whole quoted words: a regex will do
        return [quoted or word for quoted, word in _PLAIN_ARG.findall(line)]
    args: list[str] = []
    buffer: list[str] = []
    quoted = escaped = False
    for char in line:
        if quoted:
            if escaped:
                buffer.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
                args.append("".join(buffer))
                buffer = []
            else:
                buffer.append(char)
        elif char == '"':
            quoted = True
        elif char in " \t\n":
            if buffer:
                args.append("".join(buffer))
                buffer = []
        else:
            buffer.append(char)
    if quoted:
        raise _param("unterminated quoted string")
    if buffer:
        args.append("".join(buffer))
    return args


def parse_rule(table: str, chain: str, spec: str) -> Rule:
    """One rule from its iptables-save text (without `-A CHAIN`), as iptables-restore
    reads it; the caller vouches that its target exists."""
    cmd = _ArgvParser(_restore_args(f"-A {chain} {spec}"), in_restore=True).run()
    if len(cmd.rules) != 1:
        raise _param(f"`{spec}' is not one rule")
    return cmd.rules[0]
