"""The app at 80x24 and 160x48: what a learner needs stays on screen."""

import pytest
from driving import app, command, screen_text
from textual.widgets._footer import FooterKey

from playground.tui.widgets.text_pane import TextPane
from playground.tui.widgets.timeline import WHAT_ROOM, short_place

SIZES = [(80, 24), (160, 48)]


async def until_dnat(pilot) -> None:
    player = pilot.app.player
    await command(pilot, "trace pod/client svc/web")
    while player.current.event != "netfilter" or "DNAT" not in (player.current.rule or ""):
        await pilot.press("right")
    await pilot.pause()


def on_screen(widget) -> bool:
    region = widget.region
    return widget.display and region.width > 0 and region.height > 0 and \
        widget.screen.region.contains_region(region)


@pytest.mark.parametrize("size", SIZES)
async def test_the_dnat_hop_shows_its_explanation_packet_and_lit_rule(size):
    async with app().run_test(size=size) as pilot:
        await until_dnat(pilot)
        timeline = pilot.app.query_one("#timeline")
        what = list(timeline.columns.values())[3]
        assert what.width >= WHAT_ROOM
        assert sum(c.get_render_width(timeline) for c in timeline.columns.values()) \
            <= timeline.scrollable_content_region.width  # no column past the edge
        assert timeline.get_row_at(timeline.cursor_row)[1] == "kind-worker"
        shown = screen_text(pilot)
        assert "before 10.244.1.2:" in shown and "after  10.244.1.2:" in shown
        assert "kind-worker   netfilter    nat PREROUTING: rule 2 of KUBE-SEP-" in shown
        pane = pilot.app.query_one("#iptables", TextPane)
        rows = [pane.render_line(y).text.strip() for y in range(pane.size.height)]
        first = pane.row_of(pane.lines.index(pilot.app.query_one("#inspector").lit_rule)) \
            - pane.scroll_offset.y
        assert 0 <= first < len(rows)
        lit = rows[first] + "".join(row.removeprefix("↳ ") for row in rows[first + 1:]
                                    if row.startswith("↳"))
        assert lit.endswith("-j DNAT --to-destination 10.244.2.2:80")


@pytest.mark.parametrize("width", [80, 100, 160])
async def test_the_footer_always_offers_help_and_quit(width):
    async with app().run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = [key for key in pilot.app.query(FooterKey)]
        actions = {key.action for key in keys}
        assert {"help", "quit"} <= actions
        assert all(on_screen(key) for key in keys)


async def test_a_hidden_topology_says_so_and_v_shows_it():
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        note = pilot.app.query_one("#topology-note")
        assert on_screen(note) and "v shows it" in str(note.render())
        await pilot.press("v")
        await pilot.pause()
        assert pilot.app.query_one("#topology-scroll").display and not note.display


async def test_tab_keys_move_through_the_tables():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        inspector = pilot.app.query_one("#inspector")
        await pilot.press("right_square_bracket")
        assert inspector.active == "iptables-tab"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert inspector.active == "object-tab"  # round to the last
        await pilot.press("3")
        assert inspector.active == "conntrack-tab"


async def test_w_wraps_every_line_and_back():
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = pilot.app.query_one("#iptables", TextPane)
        pilot.app.query_one("#inspector").active = "iptables-tab"
        await pilot.pause()
        cut_height = pane.virtual_size.height
        await pilot.press("w")
        await pilot.pause()
        assert pane.wrap and pane.virtual_size.height > cut_height
        assert pane.virtual_size.width <= pane.scrollable_content_region.width
        await pilot.press("w")
        assert not pane.wrap


def test_the_hop_list_names_places_short():
    assert short_place("node/kind-worker") == "kind-worker"
    assert short_place("pod/default/client") == "client"
    assert short_place("internet") == "internet"


@pytest.mark.parametrize("size", SIZES)
async def test_a_long_pod_name_never_squeezes_out_what_happened(size):
    """Through an Ingress: the controller pod's long name is cut in `where`, with a mark,
    and the hop pane names it whole."""
    from lesson_solutions import SOLUTIONS
    async with app().run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.app.run_line("lesson ingress")
        await pilot.app.run_line(SOLUTIONS["ingress"]["blog"][0][0])
        await pilot.pause()
        timeline = pilot.app.query_one("#timeline")
        columns = list(timeline.columns.values())
        assert columns[3].width >= WHAT_ROOM
        assert sum(c.get_render_width(timeline) for c in columns) \
            <= timeline.scrollable_content_region.width
        places = [str(timeline.get_row_at(n)[1]) for n in range(timeline.row_count)]
        controller = [p for p in places if p.startswith("ingress-nginx-")]
        assert controller and all(len(p) <= columns[1].width for p in places)
        assert controller[0].endswith("…")  # cut, and marked so
        hop = next(h for h in pilot.app.player.hops if "ingress-nginx-" in h.where)
        pilot.app.player.jump(pilot.app.player.hops.index(hop))
        pilot.app._moved()
        await pilot.pause()
        assert hop.where in pilot.app.query_one("#detail-scroll").border_title


async def test_w_lets_the_selector_column_be_read_at_80x24():
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl get svc -o wide")
        pane = pilot.app.query_one("#object", TextPane)
        await pilot.pause()
        last = max(pane.lines, key=len)
        assert len(last) > pane.size.width and "SELECTOR" in pane.lines[0]
        await pilot.press("w")
        await pilot.pause()
        rows = [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]
        header = pane.row_of(0) - pane.scroll_offset.y
        assert "".join(row.removeprefix("↳ ") for row in rows[header:header + 3]).startswith(
            pane.lines[0].rstrip())
