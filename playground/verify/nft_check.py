"""nf_tables in the kernel lab: each namespace's ruleset (loaded with the real `nft -f`,
see nft_plan) read back with `nft -j list ruleset` and compared with the model's JSON."""

from __future__ import annotations

import json

from playground.net.netns import Namespace
from playground.verify.command import in_ns
from playground.verify.kernel import run
from playground.verify.nft_plan import has_tables

# what iptables-nft makes in the kernel for iptables' own tables (not the model's nft)
IPTABLES_NFT = {("ip", name) for name in ("filter", "nat", "mangle", "raw", "security")}
# what moves in the kernel on its own, or is the kernel's to number
VOLATILE = ("handle", "expires")


def kernel_json(name: str) -> dict:
    return json.loads(run(in_ns(name, "nft", "-j", "list", "ruleset")))


def normalised(document: dict, keep: set[tuple[str, str]] | None = None) -> list:
    """The objects of a `nft -j` document without handles, element expiry or counter
    values, for the tables in `keep` (all but iptables-nft's when None)."""
    items = []
    for item in document["nftables"]:
        (kind, body), = item.items()
        if kind == "metainfo":
            continue
        table = (body["family"], body["name"] if kind == "table" else body["table"])
        if (keep is None and table in IPTABLES_NFT) or (keep is not None and table not in keep):
            continue
        items.append({kind: _scrub(body)})
    return items


def _scrub(value):
    if isinstance(value, dict):
        if set(value) == {"packets", "bytes"}:
            return {"packets": 0, "bytes": 0}
        return {key: _scrub(inner) for key, inner in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [_scrub(inner) for inner in value]
    return value


def _as_loaded(item: dict) -> dict:
    """A model rule's queue statement as the kernel holds it: the xtables NFQUEUE target,
    which nft -j shows by name only (queue_plan loads it so)."""
    rule = item.get("rule")
    if rule is None or not any("queue" in e for e in rule["expr"]):
        return item
    exprs = [{"xt": {"type": "target", "name": "NFQUEUE"}} if "queue" in e else e
             for e in rule["expr"]]
    return {"rule": {**rule, "expr": exprs}}


def mismatches(model: Namespace, name: str) -> list[str]:
    """Where the kernel's ruleset (read back) differs from the model's, one line each."""
    theirs = normalised(kernel_json(name))
    ours = [_as_loaded(item) for item in normalised(model.nft.list_json())] \
        if has_tables(model) else []
    found = []
    for index in range(max(len(theirs), len(ours))):
        kernel_item = theirs[index] if index < len(theirs) else None
        model_item = ours[index] if index < len(ours) else None
        if kernel_item != model_item:
            found.append(f"{model.name} object {index + 1}: kernel "
                         f"{json.dumps(kernel_item)[:160]} ≠ model "
                         f"{json.dumps(model_item)[:160]}")
    return found
