"""Everything a command could change in a lab, in one comparable value: the API objects
as a lab file keeps them, each namespace's routes, rules and conntrack, the random source.
A refused command must leave it equal."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.columns import encode_tables
from playground.cluster.restore import saved_objects


def lab_state(cluster: Cluster) -> dict:
    network = cluster.network
    dataplane = {name: (ns.ip_route(), ns.netfilter.save(counters=True), ns.conntrack.listing(),
                        dict(ns.sysctl))
                 for name, ns in sorted(network.namespaces.items())}
    return {"objects": encode_tables(saved_objects(cluster)), "dataplane": dataplane,
            "rng": network.rng.getstate(), "pods": sorted(p.key for p in cluster.pods())}
