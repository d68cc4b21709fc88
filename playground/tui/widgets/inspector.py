"""The selected namespace's tables, as the real tools print them, with the current hop lit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, TabbedContent, TabPane

from playground.net.iplink import bridge_fdb_show, ip_link_show, ip_neigh_show
from playground.net.netns import Namespace
from playground.net.trace import Hop
from playground.net.vxlan import Vxlan
from playground.tui.widgets.nft_tab import has_nft, nft_text
from playground.tui.widgets.text_pane import TextPane

LIT = "bold black on yellow"
PASSED = "yellow"


def lit_lines(text: str, strong: set[str], weak: set[str]) -> tuple[Text, int | None]:
    """Text with the strong lines highlighted and the weak ones tinted; the first strong
    line (for the short tabs; a long one takes lit_styles)."""
    lines = text.splitlines()
    styles, first = lit_styles(lines, strong, weak)
    out = Text()
    for number, line in enumerate(lines):
        out.append(line, styles.get(number, ""))
        out.append("\n")
    return out, first


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


def flow_of(entry: str) -> tuple[str, ...]:
    """A conntrack line's two tuples (src=, dst=, sport=, dport= of each direction), which
    stay the same while its state and timeout change."""
    return tuple(word for word in entry.split()
                 if word.split("=", 1)[0] in ("src", "dst", "sport", "dport"))


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


def ipvs_text(ns: Namespace, hop: Hop | None) -> tuple[Text, int | None]:
    """`ipvsadm -Ln`, `ipvsadm -Lnc` and `ipset list` of a namespace; for an IPVS hop, its
    virtual service, real server and connection entry lit."""
    if ns.ipvs is None:
        return Text(f"(no IPVS in {ns.name})\n"), None
    now = ns.conntrack.clock()  # the lab's clock, which the network gives every table
    now_listing = ns.ipvs.listing(now)
    conns = ns.ipvs.connection_listing(now)
    text = (f"# ipvsadm -Ln    ({ns.name})\n{now_listing}\n# ipvsadm -Lnc\n{conns}\n"
            f"# ipset list\n{ns.ipset_list()}")
    strong: set[str] = set()
    if hop is not None and hop.event == "ipvs":
        request = hop.packet_before.dst != hop.packet_after.dst
        client = hop.packet_before if request else hop.packet_after
        virtual = f"{client.dst}:{client.dport}" if request else f"{client.src}:{client.sport}"
        real = hop.packet_after if request else hop.packet_before
        real_at = f"{real.dst}:{real.dport}" if request else f"{real.src}:{real.sport}"
        block = None
        for line in now_listing.splitlines():
            if not line.startswith("  ->"):
                block = line
            if block and block.split()[1:2] == [virtual] and (
                    line is block or line.split()[1:2] == [real_at]):
                strong.add(line)
        source = f"{client.src}:{client.sport}" if request else f"{client.dst}:{client.dport}"
        strong |= {line for line in conns.splitlines()
                   if line.split()[3:6] == [source, virtual, real_at]}
    return lit_lines(text, strong, set())


def tunnel_listing(ns: Namespace, hop: Hop | None) -> tuple[str, set[str]]:
    """Each VXLAN device with its neighbour and forwarding entries; the lines the hop used."""
    parts, used = [], set()
    for device in [d for d in ns.devices.values() if isinstance(d, Vxlan)]:
        name = device.name
        parts += [f"# ip -d link show {name}    ({ns.name})", ip_link_show(ns, name, True),
                  f"# ip neigh show dev {name}", ip_neigh_show(ns, name),
                  f"# bridge fdb show dev {name}", bridge_fdb_show(ns, name)]
        if hop is None or hop.dev_out != name and hop.dev_in != name:
            continue
        if hop.event == "encapsulate":
            remote = hop.packet_after.dst
            for mac, where in device.fdb.items():
                if where == remote:
                    used.add(f"{mac} dst {remote} self permanent")
                    used |= {line for line in ip_neigh_show(ns, name).splitlines()
                             if f" lladdr {mac} " in line}
        elif hop.event == "decapsulate":
            used |= {line for line in ip_link_show(ns, name, True).splitlines()
                     if line.startswith("    vxlan id ")}
    return "\n".join(part.rstrip("\n") for part in parts if part) + "\n", used


TABS = (("routes", "Routes"), ("iptables", "iptables"), ("nft", "nftables"), ("bpf", "BPF"),
        ("conntrack", "conntrack"), ("ipvs", "IPVS"), ("tunnel", "Tunnel"), ("policy", "Policy"),
        ("object", "Object"))


class Inspector(Vertical):
    """Routes, iptables and conntrack of one namespace; follows the packet when tracing.

    A lit line always wraps to the pane's width, so the part of a rule that matters (its
    target, at the end) is never past the edge; `w` wraps every line."""

    BINDINGS = [Binding("slash", "app.search", "Search", key_display="/")]

    search = ""  # what the search box looks for in the shown tab
    _found_at = -1

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search this tab (enter: next match, escape: close)",
                    id="search", compact=True)
        with TabbedContent(id="tabs"):
            for tab, title in TABS:
                with TabPane(title, id=f"{tab}-tab"):
                    yield TextPane(id=tab)

    lit_rule: str | None = None  # the iptables line lit for the current hop
    with_ipvs = True  # whether the IPVS tab is offered: only in labs whose kube-proxy uses it

    def on_mount(self) -> None:
        self.offer_ipvs(False)
        self.query_one(TabbedContent).hide_tab("bpf-tab")
        self.query_one(TabbedContent).hide_tab("tunnel-tab")  # until a node has a tunnel
        self.query_one(TabbedContent).hide_tab("nft-tab")     # until a node has nf_tables
        self.query_one(TabbedContent).hide_tab("policy-tab")  # until a NetworkPolicy exists

    def offer_ipvs(self, offered: bool) -> None:
        """Show the IPVS tab only for labs running kube-proxy in IPVS mode."""
        if offered == self.with_ipvs:
            return
        self.with_ipvs = offered
        tabs = self.query_one(TabbedContent)
        if offered:
            tabs.show_tab("ipvs-tab")
        else:
            if tabs.active == "ipvs-tab":
                tabs.active = "routes-tab"
            tabs.hide_tab("ipvs-tab")

    def show_output(self, output: str) -> None:
        """A command's answer, in the Object tab."""
        self._set("object", Text(output))
        self.active = "object-tab"

    def show_policy(self, text: str | None) -> None:
        """The Policy tab's matrix, offered only while the lab has a NetworkPolicy."""
        tabs = self.query_one(TabbedContent)
        if text is None:
            if self.active == "policy-tab":
                self.active = "routes-tab"
            tabs.hide_tab("policy-tab")
            return
        tabs.show_tab("policy-tab")
        self._set("policy", Text(text))

    def shown_tabs(self) -> list[str]:
        """The tabs offered in this lab, in order (IPVS, BPF or Tunnel only where they are)."""
        tabs = self.query_one(TabbedContent)
        return [f"{tab}-tab" for tab, _ in TABS if tabs.get_tab(f"{tab}-tab").display]

    def switch(self, step: int = 0, number: int | None = None) -> None:
        """The next or previous tab (step), or the one at this place (number, from 1)."""
        shown = self.shown_tabs()
        if number is not None:
            if number <= len(shown):
                self.active = shown[number - 1]
        elif self.active in shown:
            self.active = shown[(shown.index(self.active) + step) % len(shown)]

    def toggle_wrap(self) -> bool:
        """Wrap every line of every tab, or only the lit ones again; whether now wrapped."""
        wrap = not self.pane("routes").wrap
        for pane in self.query(TextPane):
            pane.set_wrap(wrap)
        return wrap

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def _dataplane(self, bpf: bool) -> None:
        """A Cilium lab shows its BPF programs and maps where iptables would be."""
        tabs = self.query_one(TabbedContent)
        shown, hidden = ("bpf-tab", "iptables-tab") if bpf else ("iptables-tab", "bpf-tab")
        if self.active == hidden:
            self.active = shown
        tabs.show_tab(shown)
        tabs.hide_tab(hidden)

    def _nftables(self, ns: Namespace | None, bpf: bool) -> None:
        """nftables beside iptables where a namespace has both, in its place where the
        namespace's iptables holds no rule at all (kube-proxy in nftables mode alone)."""
        tabs = self.query_one(TabbedContent)
        nft = has_nft(ns)
        nft_alone = nft and not ns.netfilter.rule_count()
        for tab, shown in (("nft-tab", nft), ("iptables-tab", not bpf and not nft_alone)):
            if shown:
                tabs.show_tab(tab)
                continue
            if self.active == tab:
                self.active = "routes-tab"
            tabs.hide_tab(tab)

    def show(self, ns: Namespace | None, when: str, hop: Hop | None = None,
             description: str = "", bpf: str | None = None) -> None:
        self._set("object", description or "(nothing selected)")
        self._dataplane(bpf is not None)
        self._nftables(ns, bpf is not None)
        if ns is None:
            for name in ("routes", "iptables", "nft", "conntrack", "ipvs"):
                self._set(name, "(not a network namespace)")
            self._show_tunnel(None, None)
            return
        here = hop if hop is not None and hop.where == ns.name else None
        tunnel_line = self._show_tunnel(ns, here)
        routes = f"# ip route    ({ns.name})\n{ns.ip_route()}".splitlines()
        route_styles, route_line = lit_styles(routes, {here.route} if here and here.route
                                              else set(), set())
        self._set("routes", routes, route_styles, route_line)
        strong = {here.rule} if here and here.rule else set()
        weak = set(here.matched_rules) if here else set()
        rules = ns.netfilter.save(counters=True, when=when).splitlines()
        rule_styles, rule_line = lit_styles(rules, strong, weak)
        self.lit_rule = rules[rule_line] if rule_line is not None else None
        self._set("iptables", rules, rule_styles, rule_line)
        entries = (ns.conntrack.listing() + ns.conntrack.summary(len(ns.conntrack))).splitlines()
        flow = flow_of(here.conntrack) if here and here.conntrack else ()
        self._set("conntrack", entries, {n: LIT for n, line in enumerate(entries)
                                         if flow and flow_of(line) == flow})
        bpf_line = None
        if bpf is not None:
            painted, bpf_line = lit_entries(bpf, entry_keys(here.map_entry if here else None))
            self._set("bpf", painted, wrapped=bpf_line)
        ipvs, ipvs_line = ipvs_text(ns, here)
        self._set("ipvs", ipvs, wrapped=ipvs_line)
        nft, nft_line = nft_text(ns, here)
        self._set("nft", nft, wrapped=nft_line)
        if here is None:
            return
        if here.event == "bpf" and bpf is not None:
            self.active = "bpf-tab"
            if bpf_line is not None:
                self._scroll("bpf", bpf_line)
        elif here.event == "nftables" and nft_line is not None:
            self.active = "nft-tab"
            self._scroll("nft", nft_line)
        elif here.event == "ipvs" and self.with_ipvs:
            self.active = "ipvs-tab"
            self._scroll("ipvs", ipvs_line or 0)
        elif here.rule and rule_line is not None:
            self.active = "iptables-tab"
            self._scroll("iptables", rule_line)
        elif here.route and route_line is not None:
            self.active = "routes-tab"
        elif here.event in ("conntrack", "nat"):
            self.active = "conntrack-tab"
        elif here.event in ("encapsulate", "decapsulate") and tunnel_line is not None:
            self.active = "tunnel-tab"
            self._scroll("tunnel", tunnel_line)

    def _show_tunnel(self, ns: Namespace | None, here: Hop | None) -> int | None:
        """The Tunnel tab shows only where there is a VXLAN device; its first lit line."""
        tabs = self.query_one(TabbedContent)
        if ns is None or not any(isinstance(d, Vxlan) for d in ns.devices.values()):
            if self.active == "tunnel-tab":
                self.active = "routes-tab"
            tabs.hide_tab("tunnel-tab")
            return None
        tabs.show_tab("tunnel-tab")
        listing, used = tunnel_listing(ns, here)
        text, line = lit_lines(listing, used, set())
        self._set("tunnel", text, wrapped=line)
        return line

    def _set(self, name: str, content: Text | str | list[str],
             styles: dict[int, str] | None = None, wrapped: int | None = None) -> None:
        """Any tab's text: a Text keeps its colours, plain lines take a style per number;
        the lit lines (and the line wrapped) wrap to the pane."""
        pane = self.pane(name)
        lit = {number for number, style in (styles or {}).items() if style == LIT}
        pane.update(content, styles, lit | ({wrapped} if wrapped is not None else set()))
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
