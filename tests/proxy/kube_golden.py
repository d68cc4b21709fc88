"""kube-proxy's own golden outputs (pkg/proxy/iptables/proxier_test.go) against a lab's
tables, after the canonicalisation kube-proxy's helpers apply (sortIPTablesRules,
assertIPTablesRulesEqual): each table's kube-proxy chains, the chains in a fixed order,
the rules of the shared top-level chains ordered by the Service they are for (the order a
sync visits Services in is a map's), every other chain's rules as written.

Both sides are read by the lab's own iptables-restore and printed by its iptables-save,
so kube-proxy's restore spelling (`-m tcp -p tcp -d 172.30.0.41 --dport 80`,
`--or-mark 0x4000`) and the kernel's (`-d 172.30.0.41/32 -p tcp ...`) meet in one form."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from playground.net.netfilter import Netfilter

GOLDEN = Path(__file__).parent / "golden" / "kube_proxy"
TABLES = ("filter", "nat")
# chains a sync writes for many Services: compared in Service order, as sortIPTablesRules does
SHARED = ("KUBE-NODEPORTS", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL")
# chains a node has that the proxier's iptables-restore input does not carry: the canary is
# made by ipt.Monitor and the jumps from the built-in chains by EnsureRule
NOT_IN_RESTORE = {"KUBE-PROXY-CANARY"}
_COMMENT = re.compile(r'--comment "?([^" ]+)')


def renamed(text: str, renames: list[tuple[str, str]]) -> str:
    """The expected text with the test's addresses and ports moved to where a lab can have
    them (each a whole-word regex, applied in order)."""
    for pattern, replacement in renames:
        text = re.sub(pattern, replacement, text)
    return text


def chains_of(saved: str) -> dict[str, dict[str, list[str]]]:
    """Per table, kube-proxy's chains and their rules from iptables-save text."""
    found: dict[str, dict[str, list[str]]] = {}
    table = ""
    for line in saved.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":") and table in TABLES:
            name, policy = line[1:].split()[:2]
            if policy == "-" and name.startswith("KUBE-") and name not in NOT_IN_RESTORE:
                found.setdefault(table, {})[name] = []
        elif line.startswith("-A ") and table in TABLES:
            chain, _, rule = line[3:].partition(" ")
            if chain in found.get(table, {}):
                found[table][chain].append(rule)
    return found


def _service_of(rule: str) -> str:
    if "kubernetes service nodeports" in rule:
        return "\uffff"   # must stay the last rule of KUBE-SERVICES
    match = _COMMENT.search(rule)
    return match.group(1) if match else ""


def canonical(chains: dict[str, dict[str, list[str]]]) -> list[str]:
    lines = []
    for table in TABLES:
        mine = chains.get(table, {})
        order = [c for c in SHARED if c in mine] + sorted(set(mine) - set(SHARED))
        lines.append(f"*{table}")
        lines += [f":{chain} - [0:0]" for chain in order]
        for chain in order:
            rules = mine[chain]
            if chain in SHARED:
                rules = sorted(rules, key=_service_of)
            lines += [f"-A {chain} {rule}" for rule in rules]
        lines.append("COMMIT")
    return lines


def expected_lines(name: str, renames: list[tuple[str, str]]) -> list[str]:
    """The golden file, renamed, loaded by iptables-restore and printed by iptables-save."""
    nf = Netfilter()
    nf.restore(renamed((GOLDEN / name).read_text(), renames))
    return canonical(chains_of(nf.save(TABLES)))


def lab_lines(saved: str) -> list[str]:
    return canonical(chains_of(saved))


def differing(expected: list[str], actual: list[str]) -> list[str]:
    """The unified diff's changed lines (0 is the goal)."""
    return [line for line in difflib.unified_diff(expected, actual, "kube-proxy", "lab",
                                                   lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
