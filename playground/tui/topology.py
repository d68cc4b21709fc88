"""The lab drawn as boxes: outside hosts, the node network, each node with its pods.

Everything is read off the network model (namespaces, devices, veth peers), so a new node,
pod or CNI shows up without any code naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from playground.net.link import Bridge, Ethernet, Veth
from playground.net.network import Network
from playground.net.trace import Hop
from playground.net.vxlan import Vxlan

PACKET = "●"
HERE = "bold black on yellow"
VISITED = "yellow"
SELECTED = "bold reverse"
MIN_BOX, MAX_BOX = 26, 44


@dataclass
class Entry:
    """One line inside a box: what it shows, and what choosing it selects."""

    label: str
    detail: str
    place: str  # the namespace this line stands for
    device: str | None = None  # a device of that namespace, or the namespace itself
    spec: str | None = None  # what selecting this line selects in the app
    style: str = ""


@dataclass
class Box:
    title: Entry
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Hit:
    y: int
    x0: int
    x1: int
    spec: str


@dataclass
class Picture:
    lines: list[Text]
    hits: list[Hit]


def spec_of(place: str) -> str:
    """What the app selects for a namespace: node/X, pod/NS/NAME, internet, ns/NAME."""
    if place.startswith(("node/", "pod/")):
        return place
    return "internet" if place == "internet" else f"ns/{place}"


def _addresses(ns, device: str) -> str:
    found = [str(a.interface) if a.dev != "lo" and device.startswith("cni") else str(a.ip)
             for a in ns.addresses if a.dev == device]
    if len(found) > 2:
        return f"{found[0]} +{len(found) - 1}"
    return " ".join(found)


def _outside_box(ns) -> Box:
    box = Box(Entry(ns.name, "", ns.name, spec=spec_of(ns.name)))
    for device in ns.devices.values():
        if isinstance(device, Ethernet):
            box.entries.append(Entry(device.name, _addresses(ns, device.name), ns.name,
                                     device.name, spec_of(ns.name)))
    return box


def _pod_entry(pod_ns, zoom: bool) -> Entry:
    name = pod_ns.name.split("/")[-1]
    label = f"  eth0 {name}" if zoom else name
    return Entry(label, _addresses(pod_ns, "eth0"), pod_ns.name, "eth0" if zoom else None,
                 pod_ns.name, "cyan")


def _node_box(ns, zoom: bool) -> Box:
    box = Box(Entry(ns.name.split("/", 1)[1], "", ns.name, spec=ns.name, style="bold"))
    pods: dict[str, tuple[Veth, object]] = {}
    for device in ns.devices.values():
        if isinstance(device, Veth) and device.peer is not None and device.peer.namespace \
                and device.peer.namespace is not ns:
            pods[device.name] = (device, device.peer.namespace)
    for device in ns.devices.values():
        # a veth pair inside the node (Cilium's cilium_host) shows as a device by its address
        internal = isinstance(device, Veth) and device.name not in pods and \
            ns.primary_address(device.name) is not None
        if isinstance(device, Ethernet | Bridge | Vxlan) or internal:
            box.entries.append(Entry(device.name, _addresses(ns, device.name), ns.name,
                                     device.name, ns.name, "dim" if zoom else ""))
    ordered = sorted(pods.values(), key=lambda pair: pair[1].name)
    for veth, pod_ns in ordered:
        if zoom:
            master = f" ⊂ {veth.master.name}" if veth.master is not None else ""
            box.entries.append(Entry(f"{veth.name}{master}", _addresses(ns, veth.name),
                                     ns.name, veth.name, ns.name, "dim"))
        box.entries.append(_pod_entry(pod_ns, zoom))
    return box


def _legs(ns) -> int:
    """How many networks a namespace stands on: hosts first, then the routers between."""
    return sum(isinstance(d, Ethernet) for d in ns.devices.values())


def boxes(network: Network, zoom: bool,
          with_nodes: bool = True) -> tuple[list[Box], list[Box]]:
    """(outside boxes, node boxes), in a stable order."""
    outside, nodes = [], []
    if with_nodes:   # a small lab is drawn whole: its sleeping nodes are built for it
        names = [n for n in network.names() if not n.startswith("pod/")
                 and network.find(n) is not None]
    else:  # a big lab: the few hosts on the networks, not a scan of every pod
        names = list({d.namespace.name for segment in network.segments.values()
                      for d in segment.devices if d.namespace is not None
                      and not d.namespace.name.startswith(("node/", "pod/"))})
    for name in sorted(names, key=lambda n: (_legs(network.namespaces[n]), n)):
        ns = network.namespaces[name]
        if name.startswith("node/"):
            nodes.append(_node_box(ns, zoom))
        else:
            outside.append(_outside_box(ns))
    return outside, nodes


@dataclass
class Marks:
    """Where the packet is and has been, and what the user selected."""

    here: str | None = None
    here_devices: tuple[str, ...] = ()
    visited: set[str] = field(default_factory=set)
    selected: str | None = None

    @classmethod
    def of(cls, hops: list[Hop], index: int, selected: str | None) -> Marks:
        if not 0 <= index < len(hops):
            return cls(selected=selected)
        hop = hops[index]
        devices = tuple(d for d in (hop.dev_out, hop.dev_in) if d)
        return cls(hop.where, devices, {h.where for h in hops[:index]}, selected)


def _packet_entry(box: Box, marks: Marks) -> Entry | None:
    """The line the packet glyph sits on: its device if drawn, else its namespace."""
    candidates = [box.title, *box.entries]
    for device in marks.here_devices:
        for entry in candidates:
            if entry.place == marks.here and entry.device == device:
                return entry
    return next((e for e in candidates if e.place == marks.here and e.device is None), None)


def _shorten(label: str, room: int) -> str:
    """Cut the middle, so both a pod's name and its hash suffix stay readable."""
    if len(label) <= room:
        return label
    if room < 6:
        return label[:max(room, 1)]
    tail = (room - 1) // 2
    return label[:room - 1 - tail] + "…" + label[len(label) - tail:]


def _render_line(entry: Entry, width: int, marks: Marks, packet: bool,
                 gap: str = "  ") -> Text:
    glyph = f"{PACKET} " if packet else gap
    detail = f" {entry.detail}" if entry.detail else ""
    room = width - len(glyph) - len(detail)
    label = _shorten(entry.label, room)
    text = Text(glyph + label.ljust(max(room, 0)) + detail)
    if packet:
        text.stylize(HERE)
    elif entry.place in marks.visited and entry.device is None:
        text.stylize(VISITED)
    elif entry.style:
        text.stylize(entry.style)
    if entry.spec is not None and entry.spec == marks.selected and entry.device is None:
        text.stylize(SELECTED)
    return text


def _render_box(box: Box, width: int, marks: Marks) -> list[tuple[Text, str | None]]:
    """The box's lines (border included), each with the spec a click there selects."""
    inner = width - 2
    packet = _packet_entry(box, marks)
    title = box.title
    title_text = _render_line(title, inner - 2, marks, packet is title, gap=" ")
    title_text.rstrip()
    title_text.append(" ")
    top = Text.assemble(("╭─", "dim"), title_text,
                        ("─" * max(inner - 1 - len(title_text), 0) + "╮", "dim"))
    lines = [(top, title.spec)]
    for entry in box.entries:
        body = _render_line(entry, inner, marks, packet is entry)
        lines.append((Text("│", "dim") + body + Text("│", "dim"), entry.spec))
    lines.append((Text("╰" + "─" * inner + "╯", "dim"), title.spec))
    return lines


def _box_width(all_boxes: list[Box], nodes: int, width: int) -> int:
    """Wide enough for the longest line, narrow enough for up to three boxes a row."""
    widest = max((len(e.label) + len(e.detail) + 5 for b in all_boxes
                  for e in (b.title, *b.entries)), default=MIN_BOX)
    share = (width + 1) // max(min(nodes, 3), 1) - 1
    return max(min(widest, MAX_BOX, share), MIN_BOX if share >= MIN_BOX else 20)


def _row(row_boxes: list[Box], width: int, marks: Marks, y: int,
         hits: list[Hit]) -> list[Text]:
    rendered = [_render_box(box, width, marks) for box in row_boxes]
    height = max(len(r) for r in rendered)
    lines = []
    for number in range(height):
        line = Text()
        for column, box_lines in enumerate(rendered):
            x = column * (width + 1)
            if column:
                line.append(" ")
            if number < len(box_lines):
                text, spec = box_lines[number]
                line.append_text(text)
                if spec is not None:
                    hits.append(Hit(y + number, x, x + width, spec))
            else:
                line.append(" " * width)
        lines.append(line)
    return lines


def _caption(network: Network, name: str, width: int) -> Text:
    """A segment as a line: its name and the subnet its devices share."""
    segment = network.segments[name]
    subnet = next((str(a.interface.network) for d in segment.devices if d.namespace
                   for a in d.namespace.addresses if a.dev == d.name), "")
    words = f" {name} network {subnet} "
    return Text("══" + words + "═" * max(width - len(words) - 2, 0), "blue")


def draw(network: Network, width: int, marks: Marks, zoom: bool = False,
         node_boxes: list[Box] | None = None) -> Picture:
    """The whole picture; node_boxes stand in for one box per node (a big lab's summary)."""
    outside, nodes = boxes(network, zoom, with_nodes=node_boxes is None)
    nodes = nodes if node_boxes is None else node_boxes
    node_segments = sorted(name for name, segment in network.segments.items()
                           if any(d.namespace is not None and d.namespace.name.startswith(
                               "node/") for d in segment.devices))
    box_width = min(_box_width(outside + nodes, len(nodes), width), width)
    per_row = max(1, (width + 1) // (box_width + 1))
    lines = [_caption(network, name, width) for name in sorted(network.segments)
             if name not in node_segments]
    hits: list[Hit] = []
    for start in range(0, len(outside), per_row):
        lines += _row(outside[start:start + per_row], box_width, marks, len(lines), hits)
    lines += [_caption(network, name, width) for name in node_segments]
    for start in range(0, len(nodes), per_row):
        lines += _row(nodes[start:start + per_row], box_width, marks, len(lines), hits)
    return Picture(lines, hits)
