"""Lab time: a virtual clock in seconds, shown as dates the way the real tools print them."""

from __future__ import annotations

import time

# Lab time zero; fixed so the same lab prints the same dates.
LAB_EPOCH = 1767225600  # 2026-01-01 00:00:00 UTC


def iptables_date(clock: float) -> str:
    """ctime() style, as iptables-save writes in its header."""
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(LAB_EPOCH + int(clock)))


def http_date(clock: float) -> str:
    """RFC 7231's IMF-fixdate, as Go's net/http writes in a Date header."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(LAB_EPOCH + int(clock)))
