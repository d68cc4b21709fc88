"""The selected namespace's tables, as the real tools print them, with the current hop lit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, TabbedContent, TabPane

from playground.net.netns import Namespace
from playground.net.trace import Hop
from playground.tui.widgets.text_pane import TextPane

LIT = "bold black on yellow"
PASSED = "yellow"


def lit_styles(lines: list[str], strong: set[str],
               weak: set[str]) -> tuple[dict[int, str], int | None]:
    """A style for the strong lines (lit) and the weak ones (tinted), by line number, and the
    first strong line; a counter prefix [p:b] does not hide a rule."""
    styles: dict[int, str] = {}
    first = None
    if not strong and not weak:
        return styles, first
    for number, line in enumerate(lines):
        bare = line.split("] ", 1)[1] if line.startswith("[") and "] -A " in line else line
        if bare in strong:
            styles[number] = LIT
            first = number if first is None else first
        elif bare in weak:
            styles[number] = PASSED
    return styles, first


class Inspector(Vertical):
    """Routes, iptables and conntrack of one namespace; follows the packet when tracing."""

    BINDINGS = [Binding("slash", "app.search", "Search", key_display="/")]

    search = ""  # what the search box looks for in the shown tab
    _found_at = -1

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search this tab (enter: next match, escape: close)",
                    id="search", compact=True)
        with TabbedContent(id="tabs"):
            for tab, title in (("routes", "Routes"), ("iptables", "iptables"),
                               ("conntrack", "conntrack"), ("object", "Object")):
                with TabPane(title, id=f"{tab}-tab"):
                    yield TextPane(id=tab)

    lit_rule: str | None = None  # the iptables line lit for the current hop

    def show_output(self, output: str) -> None:
        """A command's answer, in the Object tab."""
        self._set("object", output)
        self.active = "object-tab"

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def show(self, ns: Namespace | None, when: str, hop: Hop | None = None,
             description: str = "") -> None:
        self._set("object", description or "(nothing selected)")
        if ns is None:
            for name in ("routes", "iptables", "conntrack"):
                self._set(name, "(not a network namespace)")
            return
        here = hop if hop is not None and hop.where == ns.name else None
        routes = f"# ip route    ({ns.name})\n{ns.ip_route()}".splitlines()
        route_styles, route_line = lit_styles(routes, {here.route} if here and here.route
                                              else set(), set())
        self._set("routes", routes, route_styles)
        strong = {here.rule} if here and here.rule else set()
        weak = set(here.matched_rules) if here else set()
        rules = ns.netfilter.save(counters=True, when=when).splitlines()
        rule_styles, rule_line = lit_styles(rules, strong, weak)
        self.lit_rule = rules[rule_line] if rule_line is not None else None
        self._set("iptables", rules, rule_styles)
        self._set("conntrack", ns.conntrack.listing() + ns.conntrack.summary(len(ns.conntrack)))
        if here is None:
            return
        if here.rule and rule_line is not None:
            self.active = "iptables-tab"
            self._scroll("iptables", rule_line)
        elif here.route and route_line is not None:
            self.active = "routes-tab"
        elif here.event in ("conntrack", "nat"):
            self.active = "conntrack-tab"

    def _set(self, name: str, content: Text | str | list[str],
             styles: dict[int, str] | None = None) -> None:
        """Any tab's text: a Text keeps its colours, plain lines take a style per number."""
        pane = self.pane(name)
        pane.update(content, styles)
        pane.search(self.search)

    def pane(self, name: str) -> TextPane:
        return self.query_one(f"#{name}", TextPane)

    def find(self, term: str, onward: bool = False) -> int:
        """Light every match in the shown tab and scroll to the first line holding one (or
        the next after the last found); how many lines match."""
        self.search = term
        pane = self.pane(self.active.removesuffix("-tab"))
        pane.search(term)
        wanted = term.lower()
        lines = [n for n, line in enumerate(pane.lines)
                 if term and wanted in (line if isinstance(line, str) else line.plain).lower()]
        if lines:
            after = [n for n in lines if n > self._found_at] if onward else lines
            self._found_at = (after or lines)[0]
            pane.scroll_to_line(self._found_at)
        return len(lines)

    def _scroll(self, name: str, line: int) -> None:
        self.pane(name).scroll_to_line(line)
