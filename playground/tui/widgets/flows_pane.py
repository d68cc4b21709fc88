"""The Flows pane (F): every packet of the lab as `hubble observe` lines, filtered by the
hop list's own filter (the place it was seen at, the packet's verdict)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from playground.cluster.cluster import Cluster
from playground.cluster.flows.endpoints import directory
from playground.cluster.flows.hubble import compact
from playground.cluster.flows.log import is_reply, journal_traces
from playground.cluster.flows.observe import Flow, Observer
from playground.tui.widgets.timeline import HopFilter

STYLES = {"FORWARDED": "green", "DROPPED": "bold red", "TRANSLATED": "yellow"}


def at_place(flow: Flow, where: str) -> bool:
    """A flow belongs to a node it was seen on, or to a pod it comes from or goes to."""
    if where.startswith("node/"):
        return flow.node == where[len("node/"):]
    if where.startswith("pod/"):
        namespace, _, name = where[len("pod/"):].partition("/")
        return any(e.namespace == namespace and e.pod_name == name
                   for e in (flow.source, flow.destination))
    return False


def flows_shown(cluster: Cluster, actions, hop_filter: HopFilter) -> list[Flow]:
    observer = Observer(directory(cluster))
    shown: list[Flow] = []
    for role, trace in journal_traces(actions):
        if hop_filter.verdict is not None and trace.verdict != hop_filter.verdict:
            continue
        flows = observer.trace(trace, reply=is_reply(role))
        shown.extend(f for f in flows if hop_filter.where is None
                     or at_place(f, hop_filter.where))
    return shown


class FlowsPane(Static):
    def show(self, cluster: Cluster | None, actions, hop_filter: HopFilter) -> None:
        flows = flows_shown(cluster, actions, hop_filter) if cluster is not None else []
        if not flows:
            self.update(Text("no flows yet: send a packet (s)"
                             + (" or change the filter (f)" if hop_filter.active else ""),
                             "dim"))
            return
        lines = Text(no_wrap=True)
        for number, flow in enumerate(flows):
            line = compact(flow)
            if number:
                lines.append("\n")
            head, _, rest = line.partition(flow.verdict)
            lines.append(head)
            lines.append(flow.verdict, STYLES.get(flow.verdict, ""))
            lines.append(rest)
        self.update(lines)
