"""Why a packet was dropped, in Hubble's words: one table from the model's text to Cilium's
drop reasons (api/v1/flow/flow.proto DropReason, pkg/monitor/api/drop.go's text)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DropReason:
    name: str   # the DropReason enum name, as drop_reason_desc
    code: int   # its number, as the deprecated drop_reason and the event's sub_type
    text: str   # what the compact printer shows as the flow's type


POLICY_DENIED = DropReason("POLICY_DENIED", 133, "Policy denied")
UNKNOWN = DropReason("DROP_REASON_UNKNOWN", 0, "UNKNOWN")

# First match wins; searched in the trace's reason and its last hop's detail and rules.
TABLE: list[tuple[str, DropReason | None]] = [
    # a refused connection is a reset sent back, not a drop: its SYN reached the endpoint
    (r"nothing listening on", None),
    (r"policy denied|networkpolic|network polic|KUBE-NWPLCY|ingress isolated|egress isolated",
     POLICY_DENIED),
    (r"has no endpoints|has no real servers|has no backends|Service backend not found",
     DropReason("SERVICE_BACKEND_NOT_FOUND", 158, "Service backend not found")),
    (r"TTL exceeded", DropReason("TTL_EXCEEDED", 196, "TTL exceeded")),
    (r"no route to|blackhole route|bpf_fib_lookup finds no route|nobody answers ARP|"
     r"no neighbour", DropReason("FIB_LOOKUP_FAILED", 169, "FIB lookup failed")),
    (r"no forwarding entry", DropReason("NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT", 160,
                                        "No tunnel/encapsulation endpoint (datapath BUG!)")),
    (r"unknown VNI", DropReason("INVALID_VNI", 183, "Invalid VNI")),
    (r"loopback source|frame addressed to another host|broadcast address",
     DropReason("INVALID_SOURCE_IP", 132, "Invalid source ip")),
]
_COMPILED = [(re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in TABLE]


def drop_reason(texts: list[str]) -> DropReason | None:
    """The reason for the first pattern any text matches; UNKNOWN when none does, None when
    the outcome is not a drop at all."""
    joined = "\n".join(t for t in texts if t)
    for pattern, reason in _COMPILED:
        if pattern.search(joined):
            return reason
    return UNKNOWN
