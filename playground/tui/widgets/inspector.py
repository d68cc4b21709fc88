"""The selected namespace's tables, as the real tools print them, with the current hop lit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from playground.net.netns import Namespace
from playground.net.trace import Hop

LIT = "bold black on yellow"
PASSED = "yellow"


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


class Inspector(Vertical):
    """Routes, iptables and conntrack of one namespace; follows the packet when tracing."""

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for tab, title in (("routes", "Routes"), ("iptables", "iptables"),
                               ("conntrack", "conntrack"), ("object", "Object")):
                with TabPane(title, id=f"{tab}-tab"), VerticalScroll(id=f"{tab}-scroll"):
                    yield Static(id=tab, markup=False)

    lit_rule: str | None = None  # the iptables line lit for the current hop

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def show(self, ns: Namespace | None, when: str, hop: Hop | None = None,
             description: str = "") -> None:
        self.query_one("#object", Static).update(description or "(nothing selected)")
        if ns is None:
            for name in ("routes", "iptables", "conntrack"):
                self.query_one(f"#{name}", Static).update("(not a network namespace)")
            return
        here = hop if hop is not None and hop.where == ns.name else None
        routes, route_line = lit_lines(f"# ip route    ({ns.name})\n" + ns.ip_route(),
                                       {here.route} if here and here.route else set(), set())
        self.query_one("#routes", Static).update(routes)
        strong = {here.rule} if here and here.rule else set()
        weak = set(here.matched_rules) if here else set()
        rules, rule_line = lit_lines(ns.netfilter.save(counters=True, when=when), strong, weak)
        self.lit_rule = rules.plain.splitlines()[rule_line] if rule_line is not None else None
        self.query_one("#iptables", Static).update(rules)
        listing = ns.conntrack.listing()
        conntrack = Text(listing + ns.conntrack.summary(len(ns.conntrack)) + "\n")
        self.query_one("#conntrack", Static).update(conntrack)
        if here is None:
            return
        if here.rule and rule_line is not None:
            self.active = "iptables-tab"
            self._scroll("iptables", rule_line)
        elif here.route and route_line is not None:
            self.active = "routes-tab"
        elif here.event in ("conntrack", "nat"):
            self.active = "conntrack-tab"

    def _scroll(self, name: str, line: int) -> None:
        scroll = self.query_one(f"#{name}-scroll", VerticalScroll)
        scroll.scroll_to(y=max(0, line - 3), animate=False)
