"""The send-a-packet form: source and destination picked from the model."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from playground.cluster.cluster import Cluster
from playground.numbers import is_whole
from playground.shell import ShellError
from playground.tui.forms import FormScreen, field, places
from playground.tui.widgets.on_off import OnOff


class SendForm(FormScreen):
    TITLE = "Send a packet"
    ACTION = "Send"
    FOCUS = "#submit"  # the choices start filled in: enter sends at once

    def __init__(self, cluster: Cluster, selected: str | None = None) -> None:
        super().__init__(cluster)
        self.selected = selected

    def _defaults(self, sources: list[str], targets: list[str]) -> tuple[str, str]:
        """Towards what is selected; from the internet when that is a load balancer. A
        selected pod that is the usual source sends instead: never a pod to itself."""
        dst = "svc/default/web" if "svc/default/web" in targets else targets[0]
        src = "pod/default/client"
        chosen = self.selected or ""
        if chosen.startswith("svc/"):
            lb = "lb/" + chosen[4:]
            dst = lb if lb in targets else chosen
        elif chosen in targets and chosen != src and chosen.startswith(("pod/", "gw/")):
            dst = chosen
        if dst.startswith(("lb/", "gw/")):
            src = "internet"
        if src not in sources or src == dst:
            src = next(spec for spec in sources if spec != dst)
        return src, dst

    def fields(self) -> ComposeResult:
        sources = places(self.cluster, False)
        targets = places(self.cluster, True)
        src, dst = self._defaults([spec for _, spec in sources], [spec for _, spec in targets])
        yield field("from", Select(sources, value=src, allow_blank=False, id="src"))
        yield field("to", Select(targets, value=dst, allow_blank=False, id="dst"))
        yield field("protocol", Select([("tcp", "tcp"), ("udp", "udp"), ("icmp", "icmp")],
                                       value="tcp", allow_blank=False, id="proto"))
        yield field("port", Input(placeholder="blank: the target's own port", id="port",
                                  type="integer"))
        yield field("size", Input(placeholder="blank: a bare packet; bytes, e.g. 1500",
                                  id="size", type="integer"))
        yield OnOff("don't fragment (DF): too big is dropped, not split", id="df",
                       compact=True)

    def lines(self) -> list[str]:
        src = str(self.query_one("#src", Select).value)
        dst = str(self.query_one("#dst", Select).value)
        proto = str(self.query_one("#proto", Select).value)
        port = self.query_one("#port", Input).value.strip()
        if port and not is_whole(port):
            raise ShellError("port must be a number")
        size = self.query_one("#size", Input).value.strip()
        if size and not is_whole(size):
            raise ShellError("size must be a number of bytes")
        line = f"trace {src} {dst} --proto {proto}" + (f" --port {port}" if port else "")
        line += f" --size {size}" if size else ""
        return [line + (" --df" if self.query_one("#df", OnOff).value else "")]
