"""Three choices above the hop list: which node, which kind of event, which verdict."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Select

from playground.cluster.cluster import Cluster
from playground.tui.player import Run
from playground.tui.widgets.timeline import HopFilter


class HopFilterBar(Horizontal):
    class Changed(Message):
        def __init__(self, hop_filter: HopFilter) -> None:
            super().__init__()
            self.hop_filter = hop_filter

    def compose(self) -> ComposeResult:
        yield Select([], prompt="any place", id="filter-where", compact=True)
        yield Select([], prompt="any event", id="filter-event", compact=True)
        yield Select([], prompt="any verdict", id="filter-verdict", compact=True)

    def offer(self, cluster: Cluster, runs: list[Run]) -> None:
        """Choices from what the packets so far actually did."""
        hops = [hop for run in runs for hop in run.hops]
        places = sorted({hop.where for hop in hops} | set(cluster.network.namespaces))
        self.query_one("#filter-where", Select).set_options((p, p) for p in places)
        events = sorted({hop.event for hop in hops})
        self.query_one("#filter-event", Select).set_options((e, e) for e in events)
        verdicts = sorted({run.verdict for run in runs} | {"delivered", "dropped", "rejected"})
        self.query_one("#filter-verdict", Select).set_options((v, v) for v in verdicts)

    def focus_first(self) -> None:
        self.query_one("#filter-where", Select).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()

        def value(name: str) -> str | None:
            chosen = self.query_one(f"#filter-{name}", Select).value
            return None if chosen is Select.NULL else str(chosen)

        self.post_message(self.Changed(HopFilter(value("where"), value("event"),
                                                 value("verdict"))))
