"""The send-a-packet form: source and destination picked from the model."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from playground.cluster.cluster import Cluster


def places(cluster: Cluster, destinations: bool) -> list[tuple[str, str]]:
    """(label, spec) for every pod, node, the internet, and as destinations Services and LBs."""
    found = [(f"pod {p.key}  {p.status.pod_ip}", f"pod/{p.key}") for p in cluster.pods()
             if p.status.pod_ip]
    found += [(f"node {n.name}  {n.status.internal_ip}", f"node/{n.name}")
              for n in cluster.nodes()]
    found.append(("internet  203.0.113.100", "internet"))
    if destinations:
        for service in cluster.services():
            found.append((f"svc {service.key}  {service.spec.cluster_ip}",
                          f"svc/{service.key}"))
            if service.status.load_balancer_ips:
                found.append((f"lb {service.key}  {service.status.load_balancer_ips[0]}",
                              f"lb/{service.key}"))
    return found


class SendScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster

    def compose(self) -> ComposeResult:
        with Vertical(id="send-form"):
            yield Label("Send a packet", id="send-title")
            yield Label("from")
            yield Select(places(self.cluster, False), id="src", value="pod/default/client",
                         allow_blank=False)
            yield Label("to")
            yield Select(places(self.cluster, True), id="dst", value="svc/default/web",
                         allow_blank=False)
            with Horizontal(id="send-row"):
                yield Select([("tcp", "tcp"), ("udp", "udp"), ("icmp", "icmp")], id="proto",
                             value="tcp", allow_blank=False)
                yield Input(placeholder="port (default: the target's)", id="port",
                            type="integer")
            with Horizontal(id="send-buttons"):
                yield Button("Send", variant="primary", id="go")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go":
            self.action_send()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        src = self.query_one("#src", Select).value
        dst = self.query_one("#dst", Select).value
        proto = self.query_one("#proto", Select).value
        port = self.query_one("#port", Input).value.strip()
        line = f"trace {src} {dst} --proto {proto}" + (f" --port {port}" if port else "")
        self.dismiss(line)

    def action_cancel(self) -> None:
        self.dismiss(None)
