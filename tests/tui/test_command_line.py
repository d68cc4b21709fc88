"""The `:` line: a failed line comes back with up, Tab goes through every match, the
palette offers the table's commands, and an Ingress's choice is a hop of its own."""

from driving import app, command

from playground.tui.palette import system_commands
from playground.tui.widgets.command_input import CommandInput


async def test_a_failed_command_comes_back_with_up():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl get widgtes")
        box = pilot.app.query_one("#command", CommandInput)
        assert pilot.app.query_one("#error").display and box.value == ""
        await pilot.press("up")
        assert box.value == "kubectl get widgtes"
        await command(pilot, "frobnicate")
        await pilot.press("escape", "colon", "up", "up")
        assert box.value == "kubectl get widgtes"
        await pilot.press("down")
        assert box.value == "frobnicate"


async def test_tab_again_goes_through_every_match_and_lists_them():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"trace pod/web")
        box = pilot.app.query_one("#command", CommandInput)
        await pilot.press("tab")
        assert box.value == "trace pod/web-1"
        assert "pod/web-2" in str(box.border_subtitle) and "1/2" in str(box.border_subtitle)
        await pilot.press("tab")
        assert box.value == "trace pod/web-2"
        await pilot.press("tab")
        assert box.value == "trace pod/web-1"
        await pilot.press(*" pod/app:s", "tab")
        assert box.value == "trace pod/web-1 pod/app:sidecar" and not box.border_subtitle


async def test_the_palette_offers_every_command_of_the_table():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        offered = {c.title: c for c in system_commands(pilot.app)}
        assert "Send a packet" in offered
        get = next(c for title, c in offered.items() if title.startswith(": kubectl get "))
        get.callback()
        await pilot.pause()
        assert pilot.app.query_one("#command", CommandInput).value == "kubectl get "


async def test_the_ingress_choice_is_a_hop_of_its_own():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl create ingress front --rule=web.example/*=web:80")
        await command(pilot, "trace internet lb/ingress-nginx/ingress-nginx-controller "
                             "--host web.example")
        player = pilot.app.player
        chosen = [hop for hop in player.hops if hop.event == "ingress"]
        assert len(chosen) == 1
        hop = chosen[0]
        assert hop.detail == ("ingress default/front: host web.example, Prefix path / → "
                              "backend svc/default/web:80")
        first = player.traces[0]
        assert hop.where == first.delivered_to.namespace
        assert hop.packet_before == hop.packet_after == first.delivered_packet
        assert player.traces[-1].delivered_to.namespace.startswith("pod/default/web-")
