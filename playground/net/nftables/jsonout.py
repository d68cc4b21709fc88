"""`nft -j list ruleset`: the libnftables JSON schema (libnftables-json(5)), as 1.0.6."""

from __future__ import annotations

from playground.net.nftables.ruleset import Table
from playground.net.nftables.sets import NftSet, Verdict

METAINFO = {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5",
                         "json_schema_version": 1}}


def ruleset_json(tables: list[Table], now: float) -> dict:
    items = [METAINFO]
    for table in tables:
        items += table_json(table, now)
    return {"nftables": items}


def table_json(table: Table, now: float) -> list:
    items = [{"table": {"family": table.family, "name": table.name, "handle": table.handle}}]
    items += [set_json(table, named, now) for named in table.sets.values()]
    for chain in table.chains.values():
        body = {"family": table.family, "table": table.name, "name": chain.name,
                "handle": chain.handle}
        if chain.base is not None:
            base = chain.base
            body.update(type=base.type, hook=base.hook, prio=base.priority,
                        policy=base.policy)
        items.append({"chain": body})
    for chain in table.chains.values():
        for rule in chain.rules:
            body = {"family": table.family, "table": table.name, "chain": chain.name,
                    "handle": rule.handle}
            if rule.comment is not None:
                body["comment"] = rule.comment
            body["expr"] = rule.json_exprs()
            items.append({"rule": body})
    return items


def set_json(table: Table, named: NftSet, now: float) -> dict:
    types = [t.name for t in named.key_types]
    body = {"family": table.family, "name": named.name, "table": table.name,
            "type": types[0] if len(types) == 1 else types, "handle": named.handle}
    if named.size is not None:
        body["size"] = named.size
    if named.comment is not None:
        body["comment"] = named.comment
    if named.is_map:
        body["map"] = named.data_type.name
    flags = [f for f in named.flags if f != "dynamic"]   # 1.0.6 leaves dynamic out
    if flags:
        body["flags"] = flags
    if named.timeout is not None:
        body["timeout"] = int(named.timeout)
    elements = []
    for element in named.live(now):
        key = named.key_json(element)
        if element.timeout is not None or element.comment is not None:
            wrapped = {"val": key}
            if element.timeout is not None:
                wrapped["timeout"] = int(element.timeout)
                wrapped["expires"] = int(max(0.0, element.expires_at - now))
            if element.comment is not None:
                wrapped["comment"] = element.comment
            key = {"elem": wrapped}
        if named.is_map:
            data = element.data.json() if isinstance(element.data, Verdict) \
                else named.data_type.json(element.data)
            elements.append([key, data])
        else:
            elements.append(key)
    if elements:
        body["elem"] = elements
    return {"map" if named.is_map else "set": body}
