"""Netfilter as iptables shows it: tables, chains, rules, matches, targets and counters.

Rules are parsed from iptables arguments (or `iptables-restore` text) and printed back the
way `iptables-save` prints them, so what the model holds can be loaded into a real kernel.
"""

from __future__ import annotations

import copy
import random
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

TABLES = ("raw", "mangle", "nat", "filter")
BUILTIN_CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}
# iptables-save prints filter and nat first here; raw and mangle only when in use.
SAVE_ORDER = ("filter", "nat", "mangle", "raw")
TERMINAL = {"ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE"}
BUILTIN_TARGETS = TERMINAL | {"RETURN", "MARK"}
CT_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "tcp": "tcp", "udp": "udp", "icmp": "icmp",
             "all": "all", "0": "all"}
ICMP_TYPES = {"echo-reply": 0, "destination-unreachable": 3, "echo-request": 8,
              "time-exceeded": 11}
VERSION = "iptables v1.8.9 (legacy)"

MODULE_OPTIONS = {
    "comment": {"--comment": 1},
    "tcp": {"--sport": 1, "--source-port": 1, "--dport": 1, "--destination-port": 1},
    "udp": {"--sport": 1, "--source-port": 1, "--dport": 1, "--destination-port": 1},
    "icmp": {"--icmp-type": 1},
    "mark": {"--mark": 1},
    "conntrack": {"--ctstate": 1},
    "addrtype": {"--src-type": 1, "--dst-type": 1},
    "statistic": {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1},
    "multiport": {"--dports": 1, "--sports": 1, "--ports": 1},
}
OPTION_ALIASES = {"--source-port": "--sport", "--destination-port": "--dport"}
TARGET_OPTIONS = {
    "REJECT": {"--reject-with"},
    "MARK": {"--set-xmark", "--set-mark", "--or-mark", "--and-mark", "--xor-mark"},
    "DNAT": {"--to-destination", "--random", "--persistent"},
    "SNAT": {"--to-source", "--random", "--random-fully", "--persistent"},
    "MASQUERADE": {"--to-ports", "--random", "--random-fully"},
}
FLAG_OPTIONS = {"--random", "--random-fully", "--persistent"}
SHORT = {"-s": "--source", "-d": "--destination", "-i": "--in-interface",
         "-o": "--out-interface", "-p": "--protocol", "-m": "--match", "-j": "--jump",
         "-g": "--goto", "-A": "--append", "-I": "--insert", "-D": "--delete",
         "-N": "--new-chain", "-X": "--delete-chain", "-F": "--flush", "-Z": "--zero",
         "-P": "--policy", "-C": "--check", "-t": "--table", "-R": "--replace"}


class IptablesError(ValueError):
    """What iptables would print, on one line."""


@dataclass(slots=True)
class PacketMeta:
    """skb metadata seen by the rules at one hook."""

    in_dev: str | None = None
    out_dev: str | None = None
    mark: int = 0
    ct_state: str | None = None
    ct_status: frozenset = frozenset()
    local_addresses: frozenset = frozenset()
    rng: random.Random | None = None


def _number(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def _value_mask(text: str, default_mask: int = 0xFFFFFFFF) -> tuple[int, int]:
    value, _, mask = text.partition("/")
    return _number(value), _number(mask) if mask else default_mask


def _port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    try:
        first = int(low) if low else 0
        last = int(high) if high else (65535 if ":" in text else first)
    except ValueError:
        raise IptablesError(f"{VERSION}: invalid port/service `{text}' specified") from None
    if not (0 <= first <= 65535 and 0 <= last <= 65535):
        raise IptablesError(f"{VERSION}: invalid port/service `{text}' specified")
    return first, last


def _network(text: str) -> IPv4Network:
    try:
        return IPv4Network(text, strict=False)
    except ValueError:
        raise IptablesError(f"{VERSION}: host/network `{text}' not found") from None


def save_string(text: str) -> str:
    """Quote like xtables_save_string: bare only if every character is safe."""
    if text and all(c.isalnum() or c in "-_" for c in text):
        return text
    escaped = "".join("\\" + c if c in '"\\' else c for c in text)
    return f'"{escaped}"'


def _iface_match(pattern: str, name: str | None) -> bool:
    if name is None:
        return False
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


@dataclass(slots=True)
class Option:
    name: str
    value: str | None
    negated: bool = False

    def text(self) -> str:
        head = f"! {self.name}" if self.negated else self.name
        return head if self.value is None else f"{head} {self.value}"


@dataclass(slots=True)
class Module:
    name: str
    options: list[Option] = field(default_factory=list)

    def text(self) -> str:
        parts = [f"-m {self.name}"] + [option.text() for option in self.options]
        return " ".join(parts)


@dataclass(slots=True)
class Rule:
    source: tuple[IPv4Network, bool] | None = None
    destination: tuple[IPv4Network, bool] | None = None
    in_iface: tuple[str, bool] | None = None
    out_iface: tuple[str, bool] | None = None
    protocol: tuple[str, bool] | None = None
    modules: list[Module] = field(default_factory=list)
    target: str | None = None
    goto: bool = False
    target_options: list[Option] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0
    nth_count: int | None = None

    @property
    def comment(self) -> str | None:
        for module in self.modules:
            if module.name == "comment":
                return module.options[0].value
        return None

    def spec(self) -> str:
        """The rule after `-A CHAIN`, exactly as iptables-save prints it."""
        parts = []
        for flag, value in (("-s", self.source), ("-d", self.destination)):
            if value is not None:
                parts.append(("! " if value[1] else "") + f"{flag} {value[0]}")
        for flag, value in (("-i", self.in_iface), ("-o", self.out_iface), ("-p", self.protocol)):
            if value is not None:
                parts.append(("! " if value[1] else "") + f"{flag} {value[0]}")
        for module in self.modules:
            parts.append(_module_text(module))
        if self.target is not None:
            parts.append(("-g " if self.goto else "-j ") + self.target)
            parts.extend(option.text() for option in self._saved_target_options())
        return " ".join(parts)

    def text(self, chain: str) -> str:
        spec = self.spec()
        return f"-A {chain} {spec}" if spec else f"-A {chain}"

    def _saved_target_options(self) -> list[Option]:
        if self.target == "REJECT":
            given = [o for o in self.target_options if o.name == "--reject-with"]
            return given or [Option("--reject-with", "icmp-port-unreachable")]
        if self.target == "MARK":
            value, mask = _mark_change(self.target_options[0])
            return [Option("--set-xmark", f"{value:#x}/{mask:#x}")]
        return self.target_options

    # evaluation

    def matches(self, packet, meta: PacketMeta) -> bool:
        if self.source is not None and (packet.src in self.source[0]) == self.source[1]:
            return False
        if self.destination is not None and (
            (packet.dst in self.destination[0]) == self.destination[1]
        ):
            return False
        for value, device in ((self.in_iface, meta.in_dev), (self.out_iface, meta.out_dev)):
            if value is not None and _iface_match(value[0], device) == value[1]:
                return False
        if self.protocol is not None and self.protocol[0] != "all" and (
            (packet.proto == self.protocol[0]) == self.protocol[1]
        ):
            return False
        return all(_module_matches(module, packet, meta) for module in self.modules)


def _mark_change(option: Option) -> tuple[int, int]:
    """Every MARK form as the (value, mask) of --set-xmark: mark = (mark & ~mask) ^ value."""
    if option.name == "--set-xmark":
        return _value_mask(option.value)
    if option.name == "--set-mark":
        value, mask = _value_mask(option.value)
        return value, mask
    number = _number(option.value)
    if option.name == "--or-mark":
        return number, number
    if option.name == "--and-mark":
        return 0, (~number) & 0xFFFFFFFF
    return number, 0  # --xor-mark


def _module_text(module: Module) -> str:
    if module.name == "statistic":
        options = []
        for option in module.options:
            if option.name == "--probability":
                stored = round(float(option.value) * 2**31)
                options.append(Option(option.name, f"{stored / 2**31:.11f}", option.negated))
            else:
                options.append(option)
        return Module(module.name, options).text()
    if module.name == "comment":
        return f"-m comment --comment {save_string(module.options[0].value)}"
    if module.name == "conntrack":
        options = []
        for option in module.options:
            states = set(option.value.split(","))
            ordered = ",".join(s for s in CT_STATES if s in states)
            options.append(Option(option.name, ordered, option.negated))
        return Module(module.name, options).text()
    return module.text()


def _in_ports(value: str, port: int) -> bool:
    for part in value.split(","):
        first, last = _port_range(part)
        if first <= port <= last:
            return True
    return False


def _module_matches(module: Module, packet, meta: PacketMeta) -> bool:
    for option in module.options:
        if _option_matches(module.name, option, packet, meta) == option.negated:
            return False
    return True


def _option_matches(module: str, option: Option, packet, meta: PacketMeta) -> bool:
    name, value = option.name, option.value
    if module == "comment":
        return True
    if module in ("tcp", "udp"):
        if packet.proto != module:
            return False
        port = packet.sport if name == "--sport" else packet.dport
        return _in_ports(value, port)
    if module == "multiport":
        if name == "--ports":
            return _in_ports(value, packet.sport) or _in_ports(value, packet.dport)
        return _in_ports(value, packet.sport if name == "--sports" else packet.dport)
    if module == "icmp":
        wanted = ICMP_TYPES.get(value)
        wanted = int(value.split("/")[0]) if wanted is None else wanted
        return packet.proto == "icmp" and packet.icmp_type == wanted
    if module == "mark":
        wanted, mask = _value_mask(value)
        return meta.mark & mask == wanted
    if module == "conntrack":
        states = set(value.split(","))
        current = meta.ct_state or "UNTRACKED"
        return current in states or bool(states & set(meta.ct_status))
    if module == "addrtype":
        address = packet.src if name == "--src-type" else packet.dst
        is_local = address in meta.local_addresses
        return is_local if value == "LOCAL" else (value == "UNICAST" and not is_local)
    if module == "statistic":
        return True  # decided by the --mode option below
    return True


def _statistic_fires(module: Module, rule: Rule, meta: PacketMeta) -> bool:
    options = {o.name: o.value for o in module.options}
    negated = any(o.negated for o in module.options)
    if options.get("--mode") == "nth":
        # the kernel's counter: starts at --packet, fires when it wraps past --every - 1
        every, start = int(options["--every"]), int(options.get("--packet", 0))
        count = start if rule.nth_count is None else rule.nth_count
        rule.nth_count = 0 if count == every - 1 else count + 1
        fired = rule.nth_count == 0
    else:
        stored = round(float(options["--probability"]) * 2**31)
        rng = meta.rng or random.Random(0)
        fired = rng.getrandbits(31) < stored
    return fired != negated


@dataclass(slots=True)
class Chain:
    name: str
    policy: str | None = None
    rules: list[Rule] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0


@dataclass(slots=True)
class Table:
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)


@dataclass(slots=True)
class Verdict:
    action: str
    table: str
    chain: str
    rule: Rule | None
    rule_index: int | None
    to_address: IPv4Address | None = None
    to_port: int | None = None
    reject_with: str | None = None
    random_fully: bool = False
    matched: list[tuple[str, int, str]] = field(default_factory=list)
    rules_walked: int = 0

    def rule_text(self) -> str:
        if self.rule is None:
            return f"-P {self.chain} {self.action}"
        return self.rule.text(self.chain)


class Netfilter:
    def __init__(self) -> None:
        self.tables = {
            name: Table(name, {c: Chain(c, "ACCEPT") for c in BUILTIN_CHAINS[name]})
            for name in TABLES
        }
        self.generation = 0

    def copy(self) -> Netfilter:
        return copy.deepcopy(self)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise IptablesError(f"{VERSION}: can't initialize iptables table `{name}': "
                                "Table does not exist (do you need to insmod?)") from None

    def chain(self, table: str, name: str) -> Chain:
        try:
            return self.table(table).chains[name]
        except KeyError:
            raise IptablesError("iptables: No chain/target/match by that name.") from None

    def rule_count(self, table: str | None = None) -> int:
        names = [table] if table else TABLES
        return sum(len(c.rules) for t in names for c in self.tables[t].chains.values())

    def zero_counters(self) -> None:
        for table in self.tables.values():
            for chain in table.chains.values():
                chain.packets = chain.bytes = 0
                for rule in chain.rules:
                    rule.packets = rule.bytes = 0

    # commands

    def iptables(self, argv: list[str] | str) -> None:
        args = shlex.split(argv) if isinstance(argv, str) else list(argv)
        args = [SHORT.get(a, a) for a in args]
        table = "filter"
        if "--table" in args:
            at = args.index("--table")
            if at + 1 >= len(args):
                raise IptablesError(f"{VERSION}: option \"--table\" requires an argument")
            table = args[at + 1]
            del args[at:at + 2]
        self.table(table)
        if not args:
            raise IptablesError(f"{VERSION}: no command specified")
        command, rest = args[0], args[1:]
        self.generation += 1
        if command in ("--append", "--insert", "--delete", "--check", "--replace"):
            if not rest:
                raise IptablesError(f"{VERSION}: option \"{command}\" requires an argument")
            chain = self.chain(table, rest[0])
            rest = rest[1:]
            position = None
            if command in ("--insert", "--replace", "--delete") and rest and rest[0].isdigit():
                position = int(rest[0])
                rest = rest[1:]
            if command == "--delete" and position is not None and not rest:
                self._check_index(chain, position)
                del chain.rules[position - 1]
                return
            rule = self._parse_rule(table, rest)
            if command == "--append":
                chain.rules.append(rule)
            elif command == "--insert":
                position = position or 1
                if position > len(chain.rules) + 1:
                    raise IptablesError("iptables: Index of insertion too big.")
                chain.rules.insert(position - 1, rule)
            elif command == "--replace":
                self._check_index(chain, position or 0)
                chain.rules[position - 1] = rule
            else:
                found = self._find(chain, rule)
                if command == "--delete":
                    del chain.rules[found]
        elif command == "--new-chain":
            self._new_chain(table, self._one(rest, command))
        elif command == "--delete-chain":
            names = rest or [c for c in self.tables[table].chains
                             if c not in BUILTIN_CHAINS[table]]
            for name in names:
                self._delete_chain(table, name)
        elif command == "--flush":
            chains = [self.chain(table, rest[0])] if rest else self.tables[table].chains.values()
            for chain in chains:
                chain.rules.clear()
        elif command == "--zero":
            self.zero_counters()
        elif command == "--policy":
            if len(rest) != 2:
                raise IptablesError(f"{VERSION}: -P requires a chain and a policy")
            chain = self.chain(table, rest[0])
            if chain.policy is None:
                raise IptablesError("iptables: Bad built-in chain name.")
            if rest[1] not in ("ACCEPT", "DROP"):
                raise IptablesError("iptables: Bad policy name.")
            chain.policy = rest[1]
        else:
            raise IptablesError(f"{VERSION}: unknown option \"{command}\"")

    @staticmethod
    def _one(rest: list[str], command: str) -> str:
        if len(rest) != 1:
            raise IptablesError(f"{VERSION}: option \"{command}\" requires one chain name")
        return rest[0]

    @staticmethod
    def _check_index(chain: Chain, position: int) -> None:
        if not 1 <= position <= len(chain.rules):
            raise IptablesError("iptables: Index of deletion too big.")

    @staticmethod
    def _find(chain: Chain, rule: Rule) -> int:
        wanted = rule.spec()
        for index, existing in enumerate(chain.rules):
            if existing.spec() == wanted:
                return index
        raise IptablesError("iptables: Bad rule (does a matching rule exist in that chain?).")

    def _new_chain(self, table: str, name: str) -> None:
        chains = self.tables[table].chains
        if name in chains:
            raise IptablesError("iptables: Chain already exists.")
        if not name or len(name) > 28 or name.startswith("-") or name in BUILTIN_TARGETS:
            raise IptablesError(f"{VERSION}: Invalid chain name `{name}'")
        chains[name] = Chain(name)

    def _delete_chain(self, table: str, name: str) -> None:
        chain = self.chain(table, name)
        if chain.policy is not None:
            raise IptablesError("iptables: Invalid argument. Run `dmesg' for more information.")
        if chain.rules:
            raise IptablesError("iptables: Directory not empty.")
        for other in self.tables[table].chains.values():
            if any(rule.target == name for rule in other.rules):
                raise IptablesError("iptables: Too many links.")
        del self.tables[table].chains[name]

    def _parse_rule(self, table: str, args: list[str]) -> Rule:
        rule = Rule()
        module: Module | None = None
        negate = False
        index = 0

        def take() -> str:
            nonlocal index
            if index >= len(args):
                raise IptablesError(f"{VERSION}: option \"{args[index - 1]}\" requires an "
                                    "argument")
            value = args[index]
            index += 1
            return value

        while index < len(args):
            word = args[index]
            index += 1
            if word == "!":
                negate = True
                continue
            if word in ("--source", "--destination"):
                value = (_network(take()), negate)
                if word == "--source":
                    rule.source = value
                else:
                    rule.destination = value
            elif word in ("--in-interface", "--out-interface"):
                value = (take(), negate)
                if word == "--in-interface":
                    rule.in_iface = value
                else:
                    rule.out_iface = value
            elif word == "--protocol":
                name = take().lower()
                if name not in PROTOCOLS:
                    raise IptablesError(f"{VERSION}: unknown protocol \"{name}\" specified")
                rule.protocol = (PROTOCOLS[name], negate)
            elif word == "--match":
                name = take()
                if name not in MODULE_OPTIONS:
                    raise IptablesError(f"{VERSION}: Couldn't load match `{name}':No such file "
                                        "or directory")
                if name in ("tcp", "udp") and (rule.protocol is None or rule.protocol[0] != name):
                    raise IptablesError(f"{VERSION}: unknown option, -m {name} needs -p {name}")
                module = Module(name)
                rule.modules.append(module)
            elif word in ("--jump", "--goto"):
                rule.target = take()
                rule.goto = word == "--goto"
                module = None
                self._parse_target(table, rule, args[index:])
                index = len(args)
            else:
                name = OPTION_ALIASES.get(word, word)
                if module is None or word not in MODULE_OPTIONS[module.name]:
                    implicit = rule.protocol[0] if rule.protocol else None
                    if implicit in ("tcp", "udp") and word in MODULE_OPTIONS[implicit]:
                        module = Module(implicit)
                        rule.modules.append(module)
                    else:
                        raise IptablesError(f"{VERSION}: unknown option \"{word}\"")
                module.options.append(Option(name, take(), negate))
            negate = False
        self._check_rule(table, rule)
        return rule

    def _parse_target(self, table: str, rule: Rule, args: list[str]) -> None:
        allowed = TARGET_OPTIONS.get(rule.target, set())
        index = 0
        while index < len(args):
            word = args[index]
            index += 1
            if word not in allowed:
                raise IptablesError(f"{VERSION}: unknown option \"{word}\"")
            if word in FLAG_OPTIONS:
                rule.target_options.append(Option(word, None))
                continue
            if index >= len(args):
                raise IptablesError(f"{VERSION}: option \"{word}\" requires an argument")
            rule.target_options.append(Option(word, args[index]))
            index += 1

    def _check_rule(self, table: str, rule: Rule) -> None:
        target = rule.target
        if target is None:
            return
        if target not in BUILTIN_TARGETS and target not in self.tables[table].chains:
            raise IptablesError(f"{VERSION}: Couldn't load target `{target}':No such file or "
                                "directory")
        if target in ("DNAT", "SNAT", "MASQUERADE") and table != "nat":
            raise IptablesError(f"{VERSION}: {target} target is only valid in the nat table")
        if target in ("DNAT", "SNAT"):
            option = "--to-destination" if target == "DNAT" else "--to-source"
            given = [o for o in rule.target_options if o.name == option]
            if not given:
                raise IptablesError(f"{VERSION}: {target}: you must specify {option}")
            address = given[0].value.partition(":")[0]
            try:
                IPv4Address(address)
            except ValueError:
                raise IptablesError(f"{VERSION}: Bad IP address \"{address}\"") from None
        if target == "MARK" and len(rule.target_options) != 1:
            raise IptablesError(f"{VERSION}: MARK target: exactly one of --set-xmark, "
                                "--set-mark, --or-mark, --and-mark, --xor-mark is needed")
        for module in rule.modules:
            if module.name == "statistic":
                mode = {o.name: o.value for o in module.options}
                if mode.get("--mode") == "random":
                    probability = float(mode.get("--probability", "nan"))
                    if not 0 <= probability <= 1:
                        raise IptablesError(f"{VERSION}: --probability must be between 0 and 1")
                elif mode.get("--mode") == "nth":
                    if int(mode.get("--every", "0")) < 1:
                        raise IptablesError(f"{VERSION}: --every must be at least 1")
                else:
                    raise IptablesError(f"{VERSION}: statistic needs --mode random or nth")

    # iptables-restore / iptables-save

    def restore(self, text: str, noflush: bool = False) -> None:
        """Load iptables-restore text; on any error nothing changes."""
        work = self.copy()
        table: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("*"):
                    table = line[1:]
                    work.table(table)
                    if not noflush:
                        work.tables[table] = Netfilter().tables[table]
                elif table is None:
                    raise IptablesError("no table")
                elif line == "COMMIT":
                    table = None
                elif line.startswith(":"):
                    name, policy, *_ = line[1:].split() + ["-"]
                    chains = work.tables[table].chains
                    if policy == "-":
                        if name in chains:
                            chains[name].rules.clear()  # a declared chain starts empty
                        else:
                            work._new_chain(table, name)
                    else:
                        work.iptables(["-t", table, "-P", name, policy])
                else:
                    work.iptables(["-t", table, *shlex.split(line)])
            except (IptablesError, ValueError):
                raise IptablesError(f"iptables-restore: line {number} failed") from None
        if table is not None:
            raise IptablesError("iptables-restore: COMMIT expected at line "
                                f"{len(text.splitlines()) + 1}")
        self.tables = work.tables
        self.generation += 1

    def _in_use(self, name: str) -> bool:
        table = self.tables[name]
        return any(c.rules or c.policy != "ACCEPT" for c in table.chains.values())

    def save(self, tables: Iterable[str] | None = None, counters: bool = False,
             when: str = "Thu Jan  1 00:00:00 1970") -> str:
        if tables is None:
            names = [t for t in SAVE_ORDER if t in ("filter", "nat") or self._in_use(t)]
        else:
            names = list(tables)
        out = []
        for name in names:
            table = self.table(name)
            builtins = [table.chains[c] for c in BUILTIN_CHAINS[name]]
            users = sorted((c for c in table.chains.values() if c.policy is None),
                           key=lambda c: c.name)
            out.append(f"# Generated by iptables-save v1.8.9 on {when}")
            out.append(f"*{name}")
            for chain in builtins:
                out.append(f":{chain.name} {chain.policy} [{chain.packets}:{chain.bytes}]")
            for chain in users:
                out.append(f":{chain.name} - [0:0]")
            for chain in builtins + users:
                for rule in chain.rules:
                    prefix = f"[{rule.packets}:{rule.bytes}] " if counters else ""
                    out.append(prefix + rule.text(chain.name))
            out.append("COMMIT")
            out.append(f"# Completed on {when}")
        return "\n".join(out) + "\n"

    # evaluation

    def run_chain(self, table: str, chain: str, packet, meta: PacketMeta) -> Verdict:
        """Walk a built-in chain as the kernel does, jumping and returning, until a verdict."""
        tables = self.tables[table].chains
        stack: list[tuple[str, int]] = []
        current, index = chain, 0
        walked = 0
        matched: list[tuple[str, int, str]] = []
        while True:
            rules = tables[current].rules
            if index >= len(rules):
                if not stack:
                    return self._policy(table, chain, packet, matched, walked)
                current, index = stack.pop()
                continue
            rule = rules[index]
            index += 1
            walked += 1
            if not rule.matches(packet, meta):
                continue
            statistic = next((m for m in rule.modules if m.name == "statistic"), None)
            if statistic is not None and not _statistic_fires(statistic, rule, meta):
                continue
            rule.packets += 1
            rule.bytes += packet.length
            matched.append((current, index, rule.text(current)))
            target = rule.target
            if target is None:
                continue
            if target == "RETURN":
                if not stack:
                    return self._policy(table, chain, packet, matched, walked)
                current, index = stack.pop()
            elif target == "MARK":
                value, mask = _mark_change(rule.target_options[0])
                meta.mark = (meta.mark & ~mask & 0xFFFFFFFF) ^ value
            elif target in TERMINAL:
                return self._terminal(table, current, rule, index, matched, walked)
            else:
                if len(stack) >= 64:
                    raise IptablesError("iptables: Too many levels of symbolic links.")
                if not rule.goto:
                    stack.append((current, index))
                current, index = target, 0

    def _policy(self, table, chain, packet, matched, walked) -> Verdict:
        builtin = self.tables[table].chains[chain]
        builtin.packets += 1
        builtin.bytes += packet.length
        return Verdict(builtin.policy, table, chain, None, None, matched=matched,
                       rules_walked=walked)

    @staticmethod
    def _terminal(table, chain, rule: Rule, index, matched, walked) -> Verdict:
        verdict = Verdict(rule.target, table, chain, rule, index, matched=matched,
                          rules_walked=walked)
        for option in rule.target_options:
            if option.name in ("--to-destination", "--to-source"):
                address, _, port = option.value.partition(":")
                verdict.to_address = IPv4Address(address)
                verdict.to_port = int(port.split("-")[0]) if port else None
            elif option.name == "--to-ports":
                verdict.to_port = int(option.value.split("-")[0])
            elif option.name == "--reject-with":
                verdict.reject_with = option.value
            elif option.name == "--random-fully":
                verdict.random_fully = True
        if rule.target == "REJECT" and verdict.reject_with is None:
            verdict.reject_with = "icmp-port-unreachable"
        return verdict
