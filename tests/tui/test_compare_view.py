"""The compare mode driven by keys: the packet on screen, sent again on another dataplane."""

from driving import app, command, until_compared
from textual.widgets import Static

from playground.tui.compare_view import CompareForm, CompareScreen


async def test_compare_opens_on_the_hop_on_screen_and_steps_both_sides():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client svc/web")
        await pilot.press("right", "right")
        hop = pilot.app.player.current
        await command(pilot, "compare ptp")
        screen = await until_compared(pilot)
        assert screen.row.left is hop
        left, right = screen.query_one("#compare-left"), screen.query_one("#compare-right")
        assert left.hop is hop and right.hop.where == hop.where
        await pilot.press("right")
        assert screen.at == 3 and left.hop is screen.row.left and right.hop is screen.row.right
        await pilot.press("left", "left")
        assert screen.at == 1
        await pilot.press("d")
        assert screen.row.status != "same" and screen.at > 1
        differs = str(screen.query_one("#compare-differs", Static).render())
        assert f"step {screen.at + 1}/" in differs
        verdicts = str(screen.query_one("#compare-verdicts", Static).render())
        assert verdicts.splitlines()[0].startswith("bridge") and "ptp" in verdicts
        lab = pilot.app.lab
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, CompareScreen)
        assert pilot.app.lab is lab and lab.cluster.cni.name == "bridge"
        assert len(lab.compared) == 1


async def test_the_key_asks_which_dataplane_and_the_form_runs_the_command():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, CompareForm), "nothing sent yet"
        await command(pilot, "trace pod/client pod/web-2")
        await pilot.press("d")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, CompareForm)
        assert str(form.query_one(".form-preview", Static).render()) == ": compare ptp"
        await pilot.press("ctrl+s")
        screen = await until_compared(pilot)
        assert [str(p) for p in (screen.comparison.left, screen.comparison.right)] == \
            ["bridge", "ptp"]
        assert any(r.status == "only-right" and r.right.event == "forward"
                   for r in screen.comparison.rows)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is pilot.app.screen_stack[0]


async def test_a_bad_dataplane_is_one_line_under_the_command_line():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "compare ptp")
        error = pilot.app.query_one("#error", Static)
        assert "nothing to compare: trace a packet first" in str(error.render())
        await pilot.press("escape")
        await command(pilot, "trace pod/client svc/web")
        await command(pilot, "compare flannel")
        assert error.display and "unknown CNI 'flannel'" in str(error.render())
        assert not isinstance(pilot.app.screen, CompareScreen)


async def test_the_palette_offers_it():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        assert "Compare dataplanes" in titles


async def test_the_command_line_completes_the_dataplane(lab):
    from playground.tui.completion import complete

    assert complete("compa", lab) == "compare"
    assert complete("compare p", lab) == "compare ptp"
