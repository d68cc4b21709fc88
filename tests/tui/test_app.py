"""The app's behaviour, driven by keys."""

from textual.widgets import Static

from playground.tui.app import PlaygroundApp


async def test_selecting_a_pod_shows_its_routes():
    app = PlaygroundApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(2):
            await pilot.press("down")
        await pilot.pause()
        assert app.selected == "pod/kube-system/coredns-5d78c9869d-4x7kq"
        routes = str(app.query_one("#routes", Static).render())
        assert "default via 10.244.0.1 dev eth0" in routes


async def test_trace_command_shows_the_path():
    app = PlaygroundApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"trace pod/client pod/web-1", "enter")
        await pilot.pause()
        text = str(app.query_one("#trace", Static).render())
        assert "10.244.2.0/24 via 172.18.0.3 dev eth0" in text
        assert "verdict: delivered" in text


async def test_a_bad_command_is_one_clear_notice():
    app = PlaygroundApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"trace pod/nope pod/web-1", "enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages == ['pod "nope" not found']
