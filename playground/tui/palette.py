"""The command palette (ctrl+p): every action of the app with its key, then every `:`
command from the table of commands, which opens the command line with it typed."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand

from playground.commands.table import COMMANDS

# (title, what it does and its key, the app's action, its arguments)
ACTIONS = (
    ("Send a packet", "Pick a source and a destination (s)", "send", ()),
    ("Trace the reply", "Answer the last packet (r)", "reply", ()),
    ("Command line", "kubectl, trace, ip route, iptables-save ... (:)", "command_line", ()),
    ("Add a node", "A machine joins the node network", "add_form", ("node",)),
    ("Add a pod", "One pod, on a node or the scheduler's choice", "add_form", ("pod",)),
    ("Add a Deployment", "Pods kept at a replica count", "add_form", ("deployment",)),
    ("Create a Service", "ClusterIP, NodePort or LoadBalancer", "add_form", ("service",)),
    ("Create an Ingress", "HTTP routing by host and path, as ingress-nginx (retired in 2026) "
     "does", "add_form", ("ingress",)),
    ("Delete the selected object", "Node, pod, Deployment, Service, Ingress (x)", "delete",
     ()),
    ("Scale a Deployment", "Change its replica count (c)", "scale", ()),
    ("Run the traffic generator", "Many connections, counted per endpoint (t)", "traffic",
     ()),
    ("Compare dataplanes", "This packet through another CNI or proxy mode too, side by side "
     "(d)", "compare", ()),
    ("New lab", "Start again: bridge, ptp, vxlan, cilium or cilium-vxlan CNI (ctrl+n)",
     "new_lab", ()),
    ("Save the lab", "To its file, or ask for one (ctrl+s)", "save", ()),
    ("Save the lab as", "To a new file", "save_as", ()),
    ("Open a lab", "A lab file, e.g. one of saves/ (ctrl+o)", "open", ()),
    ("Guided labs", "A lesson with tasks that tick as you do them (ctrl+l)", "lessons", ()),
    ("Show a hint", "For the next task of the guided lab (h)", "hint", ()),
    ("Show or hide the topology", "The drawn lab with the packet on it (v)",
     "toggle_topology", ()),
    ("Zoom the topology", "Show veths and bridge ports (z)", "zoom", ()),
    ("Filter the hops", "By node, event and verdict (f)", "filter", ()),
    ("Flows", "Every packet as Hubble's flow log, in place of the hop list (F)", "flows", ()),
    ("Search the tab", "Find text in routes, rules or conntrack (/)", "search", ()),
    ("Next tab", "Routes, iptables, conntrack ... (] or 1-6)", "tab", (1,)),
    ("Previous tab", "The tab before this one ([)", "tab", (-1,)),
    ("Wrap long lines", "Fold every line of the tabs to their width, or cut them (w)", "wrap",
     ()),
    ("Step forward", "Move the packet one hop (→)", "step", ()),
    ("Step back", "Move the packet back one hop (←)", "back", ()),
    ("Play / pause", "Animate the packet (space)", "play", ()),
    ("Help", "Keys and commands (?)", "help", ()),
)


def _call(method, args):
    return lambda: method(*args)


def system_commands(app: App) -> Iterable[SystemCommand]:
    for title, help_text, action, args in ACTIONS:
        yield SystemCommand(title, help_text, _call(getattr(app, f"action_{action}"), args))
    for command in COMMANDS:
        yield SystemCommand(f": {command.usage}", command.help,
                            _call(app.type_command, (f"{command.name} ",)))
