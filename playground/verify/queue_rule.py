"""Append `ip saddr|daddr @SET queue num N [bypass]` to an nft chain, for kernels without
nft_queue (CONFIG_NFT_QUEUE): the same match, with the xtables NFQUEUE target through
nft_compat, one nf_tables batch over netlink. Run inside the namespace:
    queue_rule.py FAMILY TABLE CHAIN saddr|daddr SET QUEUE bypass|- COMMENT"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from nfnl import (  # noqa: E402  (a script: its folder is the import path)
    NLM_F_ACK,
    NLM_F_REQUEST,
    attr,
    be32,
    check_acks,
    message,
    nested,
    open_socket,
    text,
)

NFNL_SUBSYS_NFTABLES = 10
BATCH_BEGIN, BATCH_END, NEWRULE = 0x10, 0x11, (NFNL_SUBSYS_NFTABLES << 8) | 6
NLM_F_CREATE, NLM_F_APPEND = 0x400, 0x800
FAMILIES = {"inet": 1, "ip": 2}
OFFSETS = {"saddr": 12, "daddr": 16}     # in the IPv4 header
NFT_META_NFPROTO, NFPROTO_IPV4 = 15, 2
NFQ_FLAG_BYPASS = 0x01
REG_1 = 1


def expression(name: str, *parts: bytes) -> bytes:
    return nested(1, text(1, name), nested(2, *parts))   # NFTA_LIST_ELEM{NAME, DATA}


def rule_body(table_family: str, table: str, chain: str, field: str, set_name: str,
              queue: int, bypass: bool, comment: str) -> bytes:
    exprs = [expression("payload", be32(1, REG_1), be32(2, 1), be32(3, OFFSETS[field]),
                        be32(4, 4)),
             expression("lookup", text(1, set_name), be32(2, REG_1)),
             # struct xt_NFQ_info_v3 {u16 queuenum, queues_total, flags}, XT_ALIGNed
             expression("target", text(1, "NFQUEUE"), be32(2, 3),
                        attr(3, struct.pack("=HHH", queue, 1,
                                            NFQ_FLAG_BYPASS if bypass else 0) + b"\0\0"))]
    if table_family == "inet":   # `ip saddr` in an inet table: first `meta nfproto ipv4`
        exprs[:0] = [expression("meta", be32(1, REG_1), be32(2, NFT_META_NFPROTO)),
                     expression("cmp", be32(1, REG_1), be32(2, 0),
                                nested(3, attr(1, bytes([NFPROTO_IPV4]))))]
    body = text(1, table) + text(2, chain) + nested(4, *exprs)
    if comment:   # libnftnl's udata: NFTNL_UDATA_RULE_COMMENT, length, the text with its NUL
        value = comment.encode() + b"\0"
        body += attr(7, bytes([0, len(value)]) + value)
    return body


if __name__ == "__main__":
    table_family, table, chain, field, set_name, queue, flag, comment = sys.argv[1:9]
    family = FAMILIES[table_family]
    batch = (message(BATCH_BEGIN, NLM_F_REQUEST, 1, 0, NFNL_SUBSYS_NFTABLES, b"")
             + message(NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, 2,
                       family, 0, rule_body(table_family, table, chain, field, set_name, int(queue),
                                            flag == "bypass", comment))
             + message(BATCH_END, NLM_F_REQUEST, 3, 0, NFNL_SUBSYS_NFTABLES, b""))
    sock = open_socket()
    sock.send(batch)
    try:
        check_acks(sock, 1, f"queue rule in {table_family} {table} {chain}")
    except OSError as error:
        sys.exit(str(error))
