"""The selected namespace's tables, as the real tools print them, with the current hop lit."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static, TabbedContent, TabPane

from playground.net.netns import Namespace
from playground.net.trace import Hop

LIT = "bold black on yellow"
PASSED = "yellow"
FOUND = "bold white on dark_green"


def lit_lines(text: str, strong: set[str], weak: set[str]) -> tuple[Text, int | None]:
    """Text with the strong lines highlighted and the weak ones tinted; the first strong line."""
    out = Text()
    first = None
    for number, line in enumerate(text.splitlines()):
        bare = line.split("] ", 1)[1] if line.startswith("[") and "] -A " in line else line
        if bare in strong:
            out.append(line, LIT)
            first = number if first is None else first
        elif bare in weak:
            out.append(line, PASSED)
        else:
            out.append(line)
        out.append("\n")
    return out, first


def entry_keys(map_entry: str | None) -> list[str]:
    """The keys a hop's map entries name (a frontend, a flow), to find them in a dump."""
    keys = []
    for part in (map_entry or "").split("; "):
        words = part.split(" ", 1)
        if len(words) == 2 and words[0].startswith("cilium_"):
            key = words[1]
            for cut in (" expires=", " → ", " XLATE_"):
                key = key.split(cut)[0]
            keys.append(key)
    return keys


def lit_entries(text: str, keys: list[str]) -> tuple[Text, int | None]:
    """The BPF dump with the lines of the deciding entries lit; the first such line."""
    out = Text()
    first = None
    for number, line in enumerate(text.splitlines()):
        if keys and any(line.startswith(key + " ") or line == key for key in keys):
            out.append(line, LIT)
            first = number if first is None else first
        else:
            out.append(line)
        out.append("\n")
    return out, first


class Inspector(Vertical):
    """Routes, iptables and conntrack of one namespace; follows the packet when tracing."""

    BINDINGS = [Binding("slash", "app.search", "Search", key_display="/")]

    search = ""  # what the search box looks for in the shown tab
    _found_at = -1

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._texts: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search this tab (enter: next match, escape: close)",
                    id="search", compact=True)
        with TabbedContent(id="tabs"):
            for tab, title in (("routes", "Routes"), ("iptables", "iptables"), ("bpf", "BPF"),
                               ("conntrack", "conntrack"), ("object", "Object")):
                with TabPane(title, id=f"{tab}-tab"), VerticalScroll(id=f"{tab}-scroll"):
                    yield Static(id=tab, markup=False)

    lit_rule: str | None = None  # the iptables line lit for the current hop

    def show_output(self, output: str) -> None:
        """A command's answer, in the Object tab."""
        self._set("object", Text(output))
        self.active = "object-tab"

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def on_mount(self) -> None:
        self.query_one(TabbedContent).hide_tab("bpf-tab")

    def _dataplane(self, bpf: bool) -> None:
        """A Cilium lab shows its BPF programs and maps where iptables would be."""
        tabs = self.query_one(TabbedContent)
        shown, hidden = ("bpf-tab", "iptables-tab") if bpf else ("iptables-tab", "bpf-tab")
        if self.active == hidden:
            self.active = shown
        tabs.show_tab(shown)
        tabs.hide_tab(hidden)

    def show(self, ns: Namespace | None, when: str, hop: Hop | None = None,
             description: str = "", bpf: str | None = None) -> None:
        self._set("object", Text(description or "(nothing selected)"))
        self._dataplane(bpf is not None)
        if ns is None:
            for name in ("routes", "iptables", "conntrack"):
                self._set(name, Text("(not a network namespace)"))
            return
        here = hop if hop is not None and hop.where == ns.name else None
        routes, route_line = lit_lines(f"# ip route    ({ns.name})\n" + ns.ip_route(),
                                       {here.route} if here and here.route else set(), set())
        self._set("routes", routes)
        strong = {here.rule} if here and here.rule else set()
        weak = set(here.matched_rules) if here else set()
        rules, rule_line = lit_lines(ns.netfilter.save(counters=True, when=when), strong, weak)
        self.lit_rule = rules.plain.splitlines()[rule_line] if rule_line is not None else None
        self._set("iptables", rules)
        listing = ns.conntrack.listing()
        conntrack = Text(listing + ns.conntrack.summary(len(ns.conntrack)) + "\n")
        self._set("conntrack", conntrack)
        bpf_line = None
        if bpf is not None:
            painted, bpf_line = lit_entries(bpf, entry_keys(here.map_entry if here else None))
            self._set("bpf", painted)
        if here is None:
            return
        if here.event == "bpf" and bpf is not None:
            self.active = "bpf-tab"
            if bpf_line is not None:
                self._scroll("bpf", bpf_line)
        elif here.rule and rule_line is not None:
            self.active = "iptables-tab"
            self._scroll("iptables", rule_line)
        elif here.route and route_line is not None:
            self.active = "routes-tab"
        elif here.event in ("conntrack", "nat"):
            self.active = "conntrack-tab"

    def _set(self, name: str, text: Text) -> None:
        self._texts[name] = text
        self.query_one(f"#{name}", Static).update(self._painted(text))

    def _painted(self, text: Text) -> Text:
        if not self.search:
            return text
        text = text.copy()
        text.highlight_regex(re.compile(re.escape(self.search), re.IGNORECASE), FOUND)
        return text

    def find(self, term: str, onward: bool = False) -> int:
        """Light every match in the shown tab and scroll to the first line holding one (or
        the next after the last found); how many lines match."""
        self.search = term
        name = self.active.removesuffix("-tab")
        text = self._texts.get(name, Text())
        self.query_one(f"#{name}", Static).update(self._painted(text))
        lines = [n for n, line in enumerate(text.plain.splitlines())
                 if term and term.lower() in line.lower()]
        if lines:
            after = [n for n in lines if n > self._found_at] if onward else lines
            self._found_at = (after or lines)[0]
            self._scroll(name, self._found_at)
        return len(lines)

    def _scroll(self, name: str, line: int) -> None:
        scroll = self.query_one(f"#{name}-scroll", VerticalScroll)
        scroll.scroll_to(y=max(0, line - 3), animate=False)
