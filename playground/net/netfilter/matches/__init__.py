"""The match modules by the name -m loads them with."""

from __future__ import annotations

from playground.net.netfilter.matches.addrtype import AddrtypeMatch
from playground.net.netfilter.matches.comment import CommentMatch
from playground.net.netfilter.matches.conntrack import ConntrackMatch
from playground.net.netfilter.matches.icmp import IcmpMatch
from playground.net.netfilter.matches.mark import MarkMatch
from playground.net.netfilter.matches.nfacct import NfacctMatch
from playground.net.netfilter.matches.physdev import PhysdevMatch
from playground.net.netfilter.matches.ports import MultiportMatch, PortMatch
from playground.net.netfilter.matches.recent import RecentMatch
from playground.net.netfilter.matches.set import SetMatch
from playground.net.netfilter.matches.statistic import StatisticMatch

# a new match module is one entry here and one file beside
MATCHES = {
    "comment": CommentMatch, "tcp": lambda: PortMatch("tcp"), "udp": lambda: PortMatch("udp"),
    "sctp": lambda: PortMatch("sctp"),
    "icmp": IcmpMatch, "mark": MarkMatch, "conntrack": ConntrackMatch,
    "addrtype": AddrtypeMatch, "statistic": StatisticMatch, "multiport": MultiportMatch,
    "recent": RecentMatch, "set": SetMatch, "nfacct": NfacctMatch,
    "physdev": PhysdevMatch,
}
