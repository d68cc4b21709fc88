"""The Flows pane (F): the lab's packets as Hubble's flow log in place of the hop list,
with the hop list's filter."""

from driving import app, command


def shown(pilot) -> list[str]:
    return str(pilot.app.query_one("#flows").render()).splitlines()


async def test_flows_replace_the_hop_list_and_follow_its_filter():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("F")
        await pilot.pause()
        assert shown(pilot) == ["no flows yet: send a packet (s)"]
        assert not pilot.app.query_one("#timeline").display
        assert pilot.app.query_one("#hops").border_title == "flows"
        await command(pilot, "trace pod/client svc/web")
        await command(pilot, "trace pod/client pod/web-2")
        lines = shown(pilot)
        assert lines[0].startswith("Jan  1 00:00:")
        assert "-> default/web:80 (world) to-stack FORWARDED (TCP Flags: SYN)" in lines[0]
        assert sum("to-endpoint FORWARDED" in line for line in lines) == 2
        await pilot.press("f")
        pilot.app.query_one("#filter-where").value = "node/kind-worker2"
        await pilot.pause()
        kept = shown(pilot)
        assert kept and len(kept) < len(lines)
        assert not any("default/web-2:80" in line for line in kept)   # seen on kind-worker
        await pilot.press("F")
        await pilot.pause()
        assert pilot.app.query_one("#timeline").display
        assert pilot.app.query_one("#hops").border_title == "hops"
