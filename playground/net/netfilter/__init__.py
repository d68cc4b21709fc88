"""Netfilter as iptables (legacy, 1.8 syntax) shows it: tables, chains, rules and counters.

Rules come in as iptables arguments or `iptables-restore` text and go out the way
`iptables-save` prints them, so a dump of the model reads like one taken from a real node.
Some checks real iptables only meets when the kernel loads the table (jump loops, a target
used from a hook or table it does not support) are made here when a rule is added, or at
COMMIT for iptables-restore, with the message the real tool prints.

The rooms: `core` (rules, chains, tables, verdicts), `matches/` (one module per -m family),
`targets`, `parser` (the iptables command line), `commands` (running one against a
namespace's tables), `saverestore` (iptables-save and -restore), `tables` (the Netfilter of
one namespace, which walks a chain as ipt_do_table does) and `values` (what all share).
"""

from playground.net.netfilter.core import INDEX_MIN_RULES, Chain, Rule, Table, Verdict
from playground.net.netfilter.parser import parse_rule, shell_words
from playground.net.netfilter.tables import Netfilter
from playground.net.netfilter.targets import Target
from playground.net.netfilter.values import IptablesError, PacketMeta, save_string

__all__ = ["INDEX_MIN_RULES", "Chain", "IptablesError", "Netfilter", "PacketMeta", "Rule",
           "Table", "Target", "Verdict", "parse_rule", "save_string", "shell_words"]


