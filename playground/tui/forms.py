"""Forms for building the lab. Each one writes the command lines a learner could type at `:`,
and the app runs them exactly as if typed, so forms teach the commands too."""

from __future__ import annotations

import shlex

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from playground.cluster.cloud import INTERNET_HOST
from playground.cluster.cluster import Cluster
from playground.cluster.gateway.status import gateway_view
from playground.proxy.modes import mode_label
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES
from playground.shell import ShellError
from playground.tui.widgets.on_off import OnOff


def field(label: str, widget, hint: str = "") -> Vertical:
    """A label, the widget beside it, and under them a hint if the field needs one."""
    widget.compact = True
    row = Horizontal(Label(label, classes="field-label"), widget, classes="field-row")
    return Vertical(row, Label(hint, classes="field-hint"), classes="field") if hint else \
        Vertical(row, classes="field")


def places(cluster: Cluster, destinations: bool) -> list[tuple[str, str]]:
    """(label, spec) for every pod, node, the internet, and as destinations Services and LBs."""
    found = [(f"pod {p.key}  {p.status.pod_ip}", f"pod/{p.key}") for p in cluster.pods()
             if p.status.pod_ip]
    found += [(f"node {n.name}  {n.status.internal_ip}", f"node/{n.name}")
              for n in cluster.nodes()]
    found.append((f"internet  {INTERNET_HOST}", "internet"))
    if destinations:
        for service in cluster.services():
            found.append((f"svc {service.key}  {service.spec.cluster_ip}",
                          f"svc/{service.key}"))
            if service.status.load_balancer_ips:
                found.append((f"lb {service.key}  {service.status.load_balancer_ips[0]}",
                              f"lb/{service.key}"))
        for gw in cluster.api.list("Gateway"):
            addresses = gateway_view(cluster, gw).addresses
            if addresses:
                found.append((f"gw {gw.key}  {addresses[0]}", f"gw/{gw.key}"))
    return found


def _value(screen: ModalScreen, selector: str) -> str:
    return str(screen.query_one(selector, Input).value).strip()


def _chosen(screen: ModalScreen, selector: str) -> str:
    value = screen.query_one(selector, Select).value
    return "" if value is Select.NULL else str(value)


def _need(value: str, what: str) -> str:
    if not value:
        raise ShellError(f"{what} is required")
    return value


class Dialog(ModalScreen[None]):
    """A modal whose submit may fail: the error is shown in it and it stays open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Run")]

    async def attempt(self) -> str | None:
        """Do what the dialog is for; the problem in one line, or None when done."""
        raise NotImplementedError

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.run_worker(self.action_submit(), exclusive=True)
        else:
            self.dismiss(None)

    async def on_input_submitted(self) -> None:
        await self.action_submit()

    async def action_submit(self) -> None:
        problem = await self.attempt()
        if problem:
            self.show_error(problem)
        else:
            self.dismiss(None)

    shown_error = ""  # the problem on screen, until the fields are changed to mend it

    def show_error(self, problem: str) -> None:
        self.shown_error = problem
        self.query_one(".form-error", Static).update(f"✗ {problem}" if problem else "")

    def action_cancel(self) -> None:
        self.dismiss(None)


class FormScreen(Dialog):
    """A titled form; submit runs its command lines."""

    TITLE = ""
    ACTION = "Create"
    FOCUS = "Input#name"  # where typing starts; else the first field

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="form"):
            yield Label(self.TITLE, classes="form-title")
            yield from self.fields()
            yield Static("", classes="form-preview")
            yield Static("", classes="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button(self.ACTION, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def lines(self) -> list[str]:
        """The commands this form stands for; ShellError names a missing or bad field."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self._preview()
        first = self.query(self.FOCUS) or self.query("Input, Select")
        if first:
            first.first().focus()

    def on_input_changed(self) -> None:
        self._preview()

    def on_select_changed(self) -> None:
        self._preview()

    def on_checkbox_changed(self) -> None:
        self._preview()

    def _preview(self) -> None:
        """The commands the form stands for; a problem shown goes once the fields mend it,
        or becomes the problem they have now."""
        problem = ""
        try:
            text = "\n".join(f": {line}" for line in self.lines())
        except ShellError as error:
            text, problem = "", str(error)
        self.query_one(".form-preview", Static).update(text)
        if self.shown_error and problem != self.shown_error:
            self.show_error(problem)

    async def attempt(self) -> str | None:
        try:
            lines = self.lines()
        except ShellError as problem:
            return str(problem)
        return await self.app.run_lines(lines)


class AddNodeForm(FormScreen):
    TITLE = "Add a node"
    ACTION = "Join"

    def fields(self) -> ComposeResult:
        taken = {n.name for n in self.cluster.nodes()}
        number = 2
        while f"kind-worker{number}" in taken:
            number += 1
        yield field("name", Input(f"kind-worker{number}", id="name"))
        yield OnOff("control plane (tainted: ordinary pods stay off)", id="control-plane",
                       compact=True)

    def lines(self) -> list[str]:
        name = _need(_value(self, "#name"), "name")
        plane = " --control-plane" if self.query_one("#control-plane", OnOff).value else ""
        return [f"node add {shlex.quote(name)}{plane}"]


class WorkloadForm(FormScreen):
    TITLE = "Add a pod or a Deployment"

    def __init__(self, cluster: Cluster, kind: str = "pod") -> None:
        super().__init__(cluster)
        self.kind = kind

    def fields(self) -> ComposeResult:
        yield field("kind", Select([("Pod", "pod"), ("Deployment", "deployment")],
                                    value=self.kind, allow_blank=False, id="kind"))
        taken = {p.name for p in self.cluster.pods()} | {
            d.name for d in self.cluster.deployments_list()}
        name = next((n for n in ["shop", *(f"shop-{i}" for i in range(2, 99))]
                     if n not in taken), "")
        yield field("name", Input(name, id="name"))
        yield field("image", Input("nginx:1.27", id="image"))
        yield field("container port", Input("80", type="integer", id="port"))
        yield field("labels", Input(placeholder="app=shop,tier=web", id="labels"),
                     "blank: run=NAME, as kubectl run does")
        nodes = [(n.name, n.name) for n in self.cluster.nodes()]
        yield field("node", Select(nodes, prompt="the scheduler's choice", id="node"))
        yield field("replicas", Input("2", type="integer", id="replicas"),
                     "its pods are labelled app=NAME")

    def on_mount(self) -> None:
        self._show_kind()
        super().on_mount()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            self._show_kind()
        self._preview()

    def _show_kind(self) -> None:
        pod = _chosen(self, "#kind") == "pod"
        for selector, shown in (("#labels", pod), ("#node", pod), ("#replicas", not pod)):
            self.query_one(selector).parent.parent.display = shown

    def lines(self) -> list[str]:
        name = shlex.quote(_need(_value(self, "#name"), "name"))
        image = shlex.quote(_need(_value(self, "#image"), "image"))
        port = _value(self, "#port")
        port_flag = f" --port={port}" if port else ""
        if _chosen(self, "#kind") == "deployment":
            replicas = _value(self, "#replicas") or "1"
            return [f"kubectl create deployment {name} --image={image} "
                    f"--replicas={replicas}{port_flag}"]
        line = f"kubectl run {name} --image={image}{port_flag}"
        if labels := _value(self, "#labels"):
            line += f" --labels={shlex.quote(labels)}"
        if node := _chosen(self, "#node"):
            line += " --overrides=" + shlex.quote(f'{{"spec":{{"nodeName":"{node}"}}}}')
        return [line]


class ServiceForm(FormScreen):
    TITLE = "Create a Service"

    def fields(self) -> ComposeResult:
        deployments = self.cluster.deployments_list("default")
        first = deployments[-1].name if deployments else ""
        yield field("type", Select([(t, t.lower()) for t in
                                     ("ClusterIP", "NodePort", "LoadBalancer")],
                                    value="loadbalancer", allow_blank=False, id="type"))
        yield field("name", Input(first, placeholder="e.g. shop", id="name"))
        yield field("port", Input("80", type="integer", id="port"))
        yield field("target port", Input("80", type="integer", id="target"))
        yield field("selector", Input(placeholder="blank: app=NAME, as kubectl does",
                                             id="selector"))
        yield field("traffic policy",
                     Select([("Cluster: any node; client address lost", "Cluster"),
                             ("Local: nodes with an endpoint; address kept", "Local")],
                            value="Cluster", allow_blank=False, id="policy"),
                     "externalTrafficPolicy, for NodePort and LoadBalancer")

    def lines(self) -> list[str]:
        kind = _chosen(self, "#type")
        name = _need(_value(self, "#name"), "name")
        port = _need(_value(self, "#port"), "port")
        target = _value(self, "#target") or port
        lines = [f"kubectl create service {kind} {shlex.quote(name)} --tcp={port}:{target}"]
        selector = _value(self, "#selector")
        if selector and selector != f"app={name}":
            lines.append(f"kubectl set selector service {shlex.quote(name)} "
                         f"{shlex.quote(selector)}")
        if kind != "clusterip" and _chosen(self, "#policy") == "Local":
            lines.append(f"kubectl patch service {shlex.quote(name)} -p "
                         + shlex.quote('{"spec":{"externalTrafficPolicy":"Local"}}'))
        return lines


class IngressForm(FormScreen):
    TITLE = "Create an Ingress"

    def fields(self) -> ComposeResult:
        services = [(s.name, s.name) for s in self.cluster.services("default")
                    if s.name != "kubernetes"]
        yield field("name", Input("front", id="name"))
        yield field("host", Input(placeholder="blank: any host", id="host"))
        yield field("path", Input("/", id="path"))
        yield OnOff("prefix match (else the path must match exactly)", True, id="prefix",
                       compact=True)
        yield field("backend Service", Select(services, id="service",
                                               value=services[-1][1] if services
                                               else Select.NULL))
        yield field("Service port", Input("80", type="integer", id="port"))

    def lines(self) -> list[str]:
        name = _need(_value(self, "#name"), "name")
        path = _value(self, "#path") or "/"
        if not path.startswith("/"):
            raise ShellError("path must start with /")
        star = "*" if self.query_one("#prefix", OnOff).value else ""
        service = _need(_chosen(self, "#service"), "backend Service")
        port = _need(_value(self, "#port"), "Service port")
        rule = f"{_value(self, '#host')}{path}{star}={service}:{port}"
        return [f"kubectl create ingress {shlex.quote(name)} --rule={shlex.quote(rule)}"]


class ScaleForm(FormScreen):
    TITLE = "Scale a Deployment"
    ACTION = "Scale"

    def __init__(self, cluster: Cluster, chosen: str | None = None) -> None:
        super().__init__(cluster)
        self.chosen = chosen

    def fields(self) -> ComposeResult:
        deployments = self.cluster.deployments_list("default")
        names = [(d.name, d.name) for d in deployments]
        chosen = self.chosen if self.chosen in dict(names) else (
            names[0][1] if names else Select.NULL)
        replicas = next((d.replicas for d in deployments if d.name == chosen), 1)
        yield field("Deployment", Select(names, value=chosen, id="deployment"))
        yield field("replicas", Input(str(replicas), type="integer", id="replicas"))

    def lines(self) -> list[str]:
        name = _need(_chosen(self, "#deployment"), "Deployment")
        replicas = _need(_value(self, "#replicas"), "replicas")
        return [f"kubectl scale deployment {shlex.quote(name)} --replicas={replicas}"]


class TrafficForm(FormScreen):
    TITLE = "Send many connections and count where they land"
    ACTION = "Send"

    def fields(self) -> ComposeResult:
        sources = places(self.cluster, False)
        targets = [(label, spec) for label, spec in places(self.cluster, True)
                   if spec.startswith(("svc/", "lb/"))]
        yield field("from", Select(sources, value=sources[0][1], allow_blank=False,
                                    id="src"))
        yield field("to", Select(targets, value=targets[-1][1] if targets else Select.NULL,
                                  id="dst"))
        yield field("connections", Input("100", type="integer", id="count"))

    def lines(self) -> list[str]:
        dst = _need(_chosen(self, "#dst"), "to")
        count = _value(self, "#count") or "100"
        return [f"traffic {_chosen(self, '#src')} {dst} --count {count}"]


class NewLabForm(FormScreen):
    TITLE = "Start a new default lab"
    ACTION = "Start"

    def fields(self) -> ComposeResult:
        yield Label("The current lab is replaced.", classes="form-note")
        yield field("CNI plugin", Select([(name, name) for name in sorted(CNI_PLUGINS)],
                                          value="bridge", allow_blank=False, id="cni"))
        modes = [(mode_label(mode), mode) for mode in PROXY_MODES]
        yield field("kube-proxy mode", Select(modes, value="iptables", allow_blank=False,
                                               id="proxy-mode"))
        providers = [(name, name) for name in LB_PROVIDERS]
        yield field("load balancers", Select(providers, value="cloud", allow_blank=False,
                                              id="lb"))
        yield field("random seed", Input("0", type="integer", id="seed"))

    def lines(self) -> list[str]:
        seed = _value(self, "#seed") or "0"
        return [f"lab new --cni {_chosen(self, '#cni')} --seed {seed} "
                f"--proxy-mode {_chosen(self, '#proxy-mode')} --lb {_chosen(self, '#lb')}"]


ADDABLE = [("n", "node", "Node: a machine that joins the node network"),
           ("p", "pod", "Pod: one pod, on a node you pick or the scheduler's"),
           ("d", "deployment", "Deployment: pods kept at a replica count"),
           ("s", "service", "Service: ClusterIP, NodePort or LoadBalancer"),
           ("i", "ingress", "Ingress: by host and path (ingress-nginx, retired 2026)")]


class AddMenu(ModalScreen[str | None]):
    """What to add; each line also answers to its letter."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")] + [
        Binding(key, f"dismiss('{what}')", what, show=False) for key, what, _ in ADDABLE]

    def compose(self) -> ComposeResult:
        with Vertical(classes="form menu"):
            yield Label("Add to the lab", classes="form-title")
            yield OptionList(*[Option(f"{key}  {text}", id=what) for key, what, text in ADDABLE],
                             id="add-choices")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def form_for(what: str, cluster: Cluster) -> FormScreen:
    if what == "node":
        return AddNodeForm(cluster)
    if what in ("pod", "deployment"):
        return WorkloadForm(cluster, what)
    if what == "service":
        return ServiceForm(cluster)
    return IngressForm(cluster)


def delete_line(spec: str) -> str | None:
    """The command that deletes what the tree or topology has selected, if it can be deleted."""
    kind, _, rest = spec.partition("/")
    kinds = {"pod": "pod", "deploy": "deployment", "svc": "service", "ing": "ingress",
             "node": "node", "gw": "gateway", "httproute": "httproute"}
    if kind not in kinds or not rest:
        return None
    namespace, _, name = rest.rpartition("/")
    flag = f" -n {namespace}" if namespace and namespace != "default" else ""
    return f"kubectl delete {kinds[kind]} {shlex.quote(name)}{flag}"


class DeleteForm(FormScreen):
    TITLE = "Delete"
    ACTION = "Delete"

    def __init__(self, cluster: Cluster, line: str) -> None:
        super().__init__(cluster)
        self.line = line

    def fields(self) -> ComposeResult:
        yield Label("This runs:", classes="form-note")

    def lines(self) -> list[str]:
        return [self.line]
