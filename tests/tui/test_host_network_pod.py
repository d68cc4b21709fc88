"""A hostNetwork pod selected in the app shows its node's tables: it runs in that namespace."""

from driving import app, command

from playground.tui.widgets.text_pane import TextPane


async def test_a_host_network_pod_shows_the_routes_of_its_node():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl run dbg --image=busybox --port=9100 --overrides="
                             """'{"spec":{"hostNetwork":true,"nodeName":"kind-worker"}}'""")
        assert pilot.app.selected == "pod/default/dbg"
        routes = pilot.app.query_one("#routes", TextPane).text
        assert "(node/kind-worker)" in routes and "default via 172.18.0.1 dev eth0" in routes
