"""The flow log of a lab: every packet its journal holds (what was sent in the app or
replayed from the lab file), and any sent since, as flows in the order they happened."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.flows.endpoints import directory
from playground.cluster.flows.observe import Flow, Observer


def is_reply(role: str) -> bool:
    return role.endswith("reply")


def flows_of(cluster: Cluster, sent: list[tuple[str, object]]) -> list[Flow]:
    """`sent`: (leg role, trace) pairs; the flows of all of them, oldest first."""
    observer = Observer(directory(cluster))
    found: list[Flow] = []
    for role, trace in sent:
        found.extend(observer.trace(trace, reply=is_reply(role)))
    return sorted(found, key=lambda f: f.time)   # stable: a trace's own order is kept


def journal_traces(actions) -> list[tuple[str, object]]:
    """The (role, trace) pairs of a journal's actions; a leg keeps its role."""
    sent: list[tuple[str, object]] = []
    for action in actions:
        if action.legs:
            sent.extend((leg.role, leg.trace) for leg in action.legs)
        else:   # `reply` answers the last trace; its one trace goes backwards
            role = "reply" if action.words[:1] == ["reply"] else "packet"
            sent.extend((role, trace) for trace in action.traces)
    return sent
