"""The Corefile in the `coredns` ConfigMap, read as CoreDNS reads it: server blocks of
directives, each a plugin with its arguments and an optional block of its own. The model
takes from it what changes answers: the kubernetes plugin's zone and `ttl`, cache's TTL,
forward's targets, and reload's interval. A Corefile CoreDNS would refuse is refused with
CoreDNS's message, so a reload keeps the config it had.

Followed: kubeadm's default Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go,
kubeadm v1.31, CoreDNS v1.11), CoreDNS v1.11's caddyfile lexer, plugin.cfg and the setup
of plugin/kubernetes, plugin/cache, plugin/forward and plugin/reload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address

PATH = "/etc/coredns/Corefile"   # where the Deployment mounts the ConfigMap's key

DEFAULT = """\
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

# plugin.cfg of CoreDNS v1.11: the directives a Corefile may name
PLUGINS = frozenset((
    "metadata", "geoip", "cancel", "tls", "timeouts", "reload", "nsid", "bufsize", "root",
    "bind", "debug", "trace", "ready", "health", "pprof", "prometheus", "errors", "log",
    "dnstap", "local", "dns64", "acl", "any", "chaos", "loadbalance", "tsig", "cache",
    "rewrite", "header", "dnssec", "autopath", "minimal", "template", "transfer", "hosts",
    "route53", "azure", "clouddns", "k8s_external", "kubernetes", "file", "auto", "secondary",
    "etcd", "loop", "forward", "grpc", "erratic", "whoami", "on", "sign", "view",
))
DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
SCALE = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


class CorefileError(ValueError):
    """What CoreDNS says of a Corefile it cannot start with, one line."""


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    block: tuple[tuple[str, ...], ...]   # the lines of its own { } block, each split
    line: int


@dataclass(frozen=True)
class Config:
    """What the model's CoreDNS runs with; None where the Corefile leaves the plugin out."""

    zone: str | None = "cluster.local."   # kubernetes: the first zone not reverse
    ttl: int = 30                         # kubernetes: ttl (the plugin's default is 5)
    cache: int | None = 30                # cache: the most seconds an answer is kept
    forward: tuple[str, ...] | None = ("/etc/resolv.conf",)   # forward . TO...
    reload: float | None = 30.0           # reload: seconds between checks of the file
    loadbalance: bool = True


def _tokens(text: str):
    """The lexer: words (quoted ones whole), braces, with their line; # starts a comment."""
    for number, line in enumerate(text.splitlines(), start=1):
        for word in re.findall(r'"[^"]*"|\{|\}|[^\s{}"]+', line.split("#", 1)[0]):
            yield number, word.strip('"')


def _fail(line: int, problem: str):
    raise CorefileError(f"{PATH}:{line} - Error during parsing: {problem}")


def directives(text: str) -> tuple[list[str], list[Directive]]:
    """The first server block's keys and directives; only one block is modelled."""
    tokens = list(_tokens(text))
    if not tokens:
        raise CorefileError(f"{PATH}: no server blocks")
    keys, index = [], 0
    while index < len(tokens) and tokens[index][1] != "{":
        keys.append(tokens[index][1])
        index += 1
    if index == len(tokens):
        _fail(tokens[-1][0], "Unexpected EOF: a server block needs { }")
    index += 1
    found: list[Directive] = []
    lines: dict[int, list[str]] = {}
    while index < len(tokens) and tokens[index][1] != "}":
        number, word = tokens[index]
        if word == "{":
            _fail(number, "Unexpected '{' without a directive")
        lines.setdefault(number, []).append(word)
        index += 1
        if index < len(tokens) and tokens[index][1] == "{":   # the directive's own block
            index += 1
            block: dict[int, list[str]] = {}
            while index < len(tokens) and tokens[index][1] != "}":
                at, inner = tokens[index]
                if inner == "{":
                    _fail(at, "Unexpected '{' inside a plugin's block")
                block.setdefault(at, []).append(inner)
                index += 1
            if index == len(tokens):
                _fail(tokens[-1][0], "Unexpected EOF")
            index += 1
            words = lines.pop(number)
            found.append(Directive(words[0], tuple(words[1:]),
                                   tuple(tuple(b) for b in block.values()), number))
    if index == len(tokens):
        _fail(tokens[-1][0], "Unexpected EOF")
    for number, words in lines.items():
        found.append(Directive(words[0], tuple(words[1:]), (), number))
    found.sort(key=lambda d: d.line)
    for directive in found:
        if directive.name not in PLUGINS:
            _fail(directive.line, f"Unknown directive '{directive.name}'")
    if len(tokens) > index + 1:
        _fail(tokens[index + 1][0], "only one server block is modelled here")
    return keys, found


def _seconds(directive: Directive, word: str) -> float:
    match = DURATION.match(word)
    if match is None:
        _fail(directive.line, f"plugin/{directive.name}: invalid duration '{word}'")
    return float(match.group(1)) * SCALE[match.group(2)]


def _int(directive: Directive, word: str, low: int, high: int, what: str) -> int:
    if not word.isdigit() or not low <= int(word) <= high:
        _fail(directive.line, f"plugin/{directive.name}: {what} must be in range "
                              f"[{low}, {high}]: {word}")
    return int(word)


def _address(target: str) -> bool:
    """An upstream the model can send to: IPv4[:53], dns:// allowed (other ports not modelled)."""
    host = target.removeprefix("dns://").removesuffix(":53")
    try:
        IPv4Address(host)
    except ValueError:
        return False
    return True


def parse(text: str) -> Config:
    _, found = directives(text)
    named = {}
    for directive in found:
        if directive.name in named:
            _fail(directive.line, f"plugin/{directive.name}: this plugin can only be used "
                                  "once per Server Block")
        named[directive.name] = directive
    zone, ttl = None, 5
    if "kubernetes" in named:
        kube = named["kubernetes"]
        zones = [z for z in kube.args if not z.endswith(("in-addr.arpa", "ip6.arpa"))]
        zone = (zones[0].rstrip(".") + ".") if zones else "cluster.local."
        for words in kube.block:
            if words[0] == "ttl":
                if len(words) != 2:
                    _fail(kube.line, "plugin/kubernetes: Wrong argument count or unexpected "
                                     "line ending after 'ttl'")
                ttl = _int(kube, words[1], 0, 3600, "ttl")
    cache = None
    if "cache" in named:
        args = named["cache"].args
        cache = _int(named["cache"], args[0], 0, 2**31, "TTL") if args else 3600
    forward = None
    if "forward" in named:
        args = named["forward"].args
        if len(args) < 2:
            _fail(named["forward"].line, "plugin/forward: Wrong argument count or unexpected "
                                         "line ending after 'forward'")
        forward = args[1:]
        for target in forward:
            if target != "/etc/resolv.conf" and not _address(target):
                _fail(named["forward"].line, f"plugin/forward: not an IP address or file: "
                                             f"\"{target}\"")
    reload = None
    if "reload" in named:
        args = named["reload"].args
        reload = _seconds(named["reload"], args[0]) if args else 30.0
        if reload < 2:
            _fail(named["reload"].line, "plugin/reload: interval value must be greater or "
                                        "equal to 2s")
    return Config(zone, ttl, cache, forward, reload, "loadbalance" in named)


DEFAULT_CONFIG = parse(DEFAULT)
