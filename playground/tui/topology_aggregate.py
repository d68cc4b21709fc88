"""The topology of a big lab: nodes summed up by group, pods by node, and full boxes only for
the nodes that matter now (the selection's, the packet's).

Drawing every node of a 5,000-node lab as a box would be 150,000 lines nobody can read;
this picture stays a few screens tall at any size and still shows where the packet is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from playground.net.link import Bridge, Ethernet, Veth
from playground.net.network import Network
from playground.tui.topology import Box, Entry, Marks, Picture, _addresses, _node_box, draw

AGGREGATE_FROM = 13  # this many nodes or more: drawn by group
NODES_PER_GROUP = 50
PODS_SHOWN = 8  # pods listed in a node's box; the rest are counted
FOCUS_BOXES = 4  # at most this many nodes drawn whole


@dataclass(frozen=True)
class NodeSummary:
    place: str  # node/NAME
    address: str
    pods: int


def census(network: Network) -> list[NodeSummary]:
    """Every node with its address and how many pods hang on it, by name."""
    found = []
    for name, ns in network.namespaces.items():
        if name.startswith("node/"):
            pods = sum(1 for d in ns.devices.values()
                       if isinstance(d, Veth) and d.peer is not None and d.peer.namespace)
            found.append(NodeSummary(name, _addresses(ns, "eth0"), pods))
    # a loaded lab's nodes not built yet: counted from what will be built with them
    sleeping = {name: sleeper.address for name, sleeper in network.asleep.items()
                if name.startswith("node/")}
    if sleeping:
        pods = Counter(f"node/{s.key}" for name, s in network.asleep.items()
                       if name.startswith("pod/"))
        found += [NodeSummary(name, address, pods[name]) for name, address in sleeping.items()]
    return sorted(found, key=lambda n: n.place)


def node_of(network: Network, place: str | None) -> str | None:
    """The node a namespace is or sits on (a pod's eth0 peer is in its node)."""
    if place is None:
        return None
    if place.startswith("node/"):
        return place
    sleeper = network.asleep.get(place)
    if sleeper is not None:
        return f"node/{sleeper.key}"
    ns = network.namespaces.get(place)
    eth0 = ns.devices.get("eth0") if ns is not None and place.startswith("pod/") else None
    if isinstance(eth0, Veth) and eth0.peer is not None and eth0.peer.namespace:
        return eth0.peer.namespace.name
    return None


def focus_nodes(network: Network, marks: Marks) -> list[str]:
    """The nodes drawn whole: the selection's, where the packet is, where it has been."""
    wanted = [node_of(network, p) for p in (marks.selected, marks.here)]
    wanted += sorted(node_of(network, p) for p in marks.visited if node_of(network, p))
    kept: list[str] = []
    for node in wanted:
        if node is not None and node not in kept and network.find(node) is not None:
            kept.append(node)   # drawn whole, so built if it was still asleep
    return kept[:FOCUS_BOXES]


def _short(place: str) -> str:
    return place.split("/", 1)[1]


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def group_boxes(nodes: list[NodeSummary], network: Network, marks: Marks) -> list[Box]:
    """One box listing every group of nodes (when there is more than one), and one listing
    the nodes of the open group (the one holding the selection or the packet)."""
    groups = [nodes[start:start + NODES_PER_GROUP]
              for start in range(0, len(nodes), NODES_PER_GROUP)]
    hot = {node_of(network, p) for p in (marks.selected, marks.here)} - {None}
    touched = {node_of(network, p) for p in marks.visited} | hot
    open_group = next((g for g in groups if hot & {n.place for n in g}), groups[0])
    pods = sum(n.pods for n in nodes)
    listing = Box(Entry(f"{_plural(len(nodes), 'node')} · {_plural(pods, 'pod')}", "",
                        "", style="bold"))
    for group in groups:
        places = {n.place for n in group}
        label = f"{_short(group[0].place)} … {_short(group[-1].place)}"
        mark = "▸ " if group is open_group else "  "
        style = "yellow" if touched & places else ("bold" if group is open_group else "")
        listing.entries.append(Entry(mark + label, _plural(sum(n.pods for n in group), "pod"),
                                     group[0].place, "group", group[0].place, style))
    title = f"{_short(open_group[0].place)} … {_short(open_group[-1].place)}"
    members = Box(Entry(title if len(groups) > 1 else listing.title.label, "", "",
                        style="bold"))
    for node in open_group:
        style = "yellow" if node.place in touched else ""
        members.entries.append(Entry(f"{_short(node.place)} · {_plural(node.pods, 'pod')}",
                                     node.address, node.place, None, node.place, style))
    return [listing, members] if len(groups) > 1 else [members]


def focus_box(network: Network, place: str, marks: Marks, zoom: bool) -> Box:
    """A node's usual box, its pods cut to the few that matter and a count of the rest."""
    ns = network.namespaces[place]
    box = _node_box(ns, zoom)
    own = sum(isinstance(d, Ethernet | Bridge) for d in ns.devices.values())
    devices, rest = box.entries[:own], box.entries[own:]
    size = 2 if zoom else 1  # zoomed, each pod comes with its veth line
    pods = [rest[i:i + size] for i in range(0, len(rest), size)]
    if len(pods) <= PODS_SHOWN:
        return box
    wanted = {marks.selected, marks.here} | marks.visited
    keep = [unit for unit in pods if unit[-1].place in wanted]
    for unit in pods:
        if len(keep) >= PODS_SHOWN:
            break
        if unit not in keep:
            keep.append(unit)
    keep.sort(key=pods.index)
    box.entries = devices + [entry for unit in keep for entry in unit]
    box.entries.append(Entry(f"  … {_plural(len(pods) - len(keep), 'more pod')}", "", place,
                             "more", place, "dim"))
    return box


def picture_of(network: Network, width: int, marks: Marks, zoom: bool,
               nodes: list[NodeSummary]) -> Picture:
    """The lab drawn box by box while small, by group from AGGREGATE_FROM nodes on."""
    if len(nodes) < AGGREGATE_FROM:
        return draw(network, width, marks, zoom)
    shown = group_boxes(nodes, network, marks)
    shown += [focus_box(network, place, marks, zoom) for place in focus_nodes(network, marks)]
    return draw(network, width, marks, zoom, node_boxes=shown)
