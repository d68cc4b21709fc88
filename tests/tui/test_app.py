"""The app driven by keys, as a learner uses it: the model changes as expected."""

from driving import app, command
from textual.widgets import Input, Static

from playground.tui.widgets.text_pane import TextPane


async def test_selecting_a_pod_shows_its_routes():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        pilot.app.query_one("#objects").focus()
        for _ in range(3):
            await pilot.press("down")
        await pilot.pause()
        assert pilot.app.selected == "pod/kube-system/coredns-59f7bd8d45-4x7kq"
        routes = pilot.app.query_one("#routes", TextPane).text
        assert "default via 10.244.0.1 dev eth0" in routes


async def test_stepping_through_a_service_trace_lights_the_dnat_rule():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client svc/web")
        player = pilot.app.player
        while player.current.event != "netfilter" or "DNAT" not in (player.current.rule or ""):
            await pilot.press("right")
        assert pilot.app.query_one("#inspector").active == "iptables-tab"
        lit = pilot.app.query_one("#inspector").lit_rule
        assert lit.startswith("[1:60] -A KUBE-SEP-") and "-j DNAT --to-destination" in lit
        assert pilot.app.query_one("#detail").hop is player.current
        await pilot.press("left")
        assert player.current.event != "netfilter" or "DNAT" not in player.current.rule


async def test_send_form_and_reply():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.click("#submit")
        await pilot.pause()
        trace = pilot.app.player.traces[0]
        assert trace.source == "pod/default/client" and trace.verdict == "delivered"
        await pilot.press("r")
        await pilot.pause()
        assert pilot.app.player.traces[0].delivered_to.namespace == "pod/default/client"


async def test_kubectl_changes_the_lab_and_the_tree():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl create deployment shop --image=nginx --replicas=2 "
                             "--port=80")
        await command(pilot, "kubectl expose deployment shop --port=80 --type=LoadBalancer")
        lab = pilot.app.cluster
        assert lab.find_service("shop").status.load_balancer_ips
        labels = [str(node.label) for node in pilot.app.query_one("#objects")._all_nodes()]
        assert any(label.startswith("shop LoadBalancer") for label in labels)
        await command(pilot, "trace internet lb/shop")
        assert pilot.app.player.traces[0].delivered_to.namespace.startswith("pod/default/shop-")
        await command(pilot, "kubectl scale deployment shop --replicas=1")
        assert len(lab.owned_pods(lab.api.peek("Deployment", "default", "shop"))) == 1
        await command(pilot, "kubectl get svc")
        assert "shop" in pilot.app.query_one("#object", TextPane).text


async def test_a_bad_command_is_one_line_under_the_command_line():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/nope pod/web-1")
        error = pilot.app.query_one("#error", Static)
        assert error.display
        assert str(error.render()) == '✗ pod "nope" not found in namespace "default"'
        assert pilot.app.query_one("#command", Input).display, "the line stays open to fix"


async def test_play_runs_the_packet_to_the_end():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client pod/web-1")
        player = pilot.app.player
        await pilot.press("space")
        assert player.playing
        while player.playing:  # the timer's ticks, driven here instead of by the clock
            pilot.app._tick()
        assert player.index == len(player.hops) - 1
        await pilot.press("home")
        assert player.index == 0


async def test_choosing_a_hop_in_the_timeline_moves_the_packet():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client pod/web-1")
        pilot.app.query_one("#timeline").focus()
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert pilot.app.player.index == 3


async def footer_key(pilot, action: str):
    """The footer key for `action`, once the footer has stopped being rebuilt (focus and
    bindings change it; a key fetched mid-rebuild is clicked where it no longer is)."""
    from textual.widgets._footer import FooterKey
    keys = None
    for _ in range(20):
        await pilot.pause()
        now = [(id(k), k.region) for k in pilot.app.query(FooterKey)]
        if now == keys:
            break
        keys = now
    return next(k for k in pilot.app.query(FooterKey) if k.action == action)


async def test_a_newcomer_with_the_mouse_alone():
    """Deployment, LoadBalancer, a packet from the internet, stepped to the DNAT rule:
    every step a click."""
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.click(await footer_key(pilot, "add"))
        await pilot.pause()
        choices = pilot.app.screen.query_one("#add-choices")
        await pilot.click(choices, offset=(4, 3))  # the third line: Deployment
        await pilot.pause()
        await pilot.click("#submit")
        await pilot.pause()
        await pilot.click(await footer_key(pilot, "add"))
        await pilot.pause()
        await pilot.click(pilot.app.screen.query_one("#add-choices"), offset=(4, 4))  # Service
        await pilot.pause()
        await pilot.click("#submit")
        await pilot.pause()
        lab = pilot.app.cluster
        assert lab.find_service("shop").status.load_balancer_ips
        tree = pilot.app.query_one("#objects")
        line = next(n for n in tree._all_nodes() if n.data == "svc/default/shop").line
        tree.scroll_to_line(line, animate=False)  # as the mouse wheel would
        await pilot.pause()
        await pilot.click(tree, offset=(16, line - tree.scroll_offset.y + 1))  # on the name
        await pilot.pause()
        assert pilot.app.selected == "svc/default/shop"
        await pilot.click(await footer_key(pilot, "send"))
        await pilot.pause()
        await pilot.click("#submit")
        await pilot.pause()
        player = pilot.app.player
        assert player.traces[0].source == "internet"
        assert player.traces[0].delivered_to.namespace.startswith("pod/default/shop-")
        while "DNAT" not in (player.current.rule or ""):
            await pilot.click(await footer_key(pilot, "step"))
        await pilot.pause()
        assert pilot.app.query_one("#inspector").active == "iptables-tab"
        assert "-j DNAT --to-destination" in pilot.app.query_one("#inspector").lit_rule


async def test_clicking_a_box_in_the_topology_selects_it():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        view = pilot.app.query_one("#topology")
        hit = next(h for h in view.picture(view.size.width).hits if h.spec == "pod/default/web-1")
        await pilot.click(view, offset=(hit.x0 + 3, hit.y))
        await pilot.pause()
        assert pilot.app.selected == "pod/default/web-1"
        assert "10.244.2.2" in pilot.app.query_one("#routes", TextPane).text
        view.focus()
        await pilot.press("down")
        assert pilot.app.selected != "pod/default/web-1"


async def test_topology_marks_the_packet_and_zooms_to_devices():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client pod/web-2")
        while pilot.app.player.current.event != "bridge":
            await pilot.press("right")
        view = pilot.app.query_one("#topology")
        text = "\n".join(line.plain for line in view.picture(view.size.width).lines)
        assert "╭─● kind-worker " in text, "bridged between two veths, not drawn unzoomed"
        await pilot.press("z")
        await pilot.pause()
        text = "\n".join(line.plain for line in view.picture(view.size.width).lines)
        veth = pilot.app.player.current.dev_out
        assert f"● {veth} ⊂ cni0" in text


async def test_filter_the_hops_by_event_and_search_the_rules():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client svc/web")
        await command(pilot, "trace pod/client pod/web-1")
        timeline = pilot.app.query_one("#timeline")
        assert timeline.row_count == 2 + sum(len(r.hops) for r in pilot.app.player.runs)
        await pilot.press("f")
        pilot.app.query_one("#filter-event").value = "netfilter"
        await pilot.pause()
        kept = [timeline.get_row_at(n)[2].plain for n in range(timeline.row_count)]
        assert set(kept) - {"", "delivered"} == {"netfilter"}
        await pilot.press("f")  # closing the bar lifts the filter
        await pilot.pause()
        assert timeline.row_count == 2 + sum(len(r.hops) for r in pilot.app.player.runs)
        pilot.app.select("node/kind-worker")
        inspector = pilot.app.query_one("#inspector")
        inspector.active = "iptables-tab"
        await pilot.press("slash")
        await pilot.press(*"kube-svc")
        await pilot.pause()
        assert inspector.find("kube-svc") >= 3
        await pilot.press("escape")
        assert not pilot.app.query_one("#search").display


async def test_tab_completes_commands_and_names():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"kubectl sc")
        await pilot.pause()
        await pilot.press("tab")
        box = pilot.app.query_one("#command", Input)
        assert box.value == "kubectl scale"
        box.value = "trace pod/cl"
        await pilot.pause()
        await pilot.press("tab")
        assert box.value == "trace pod/client"


async def test_the_reply_un_nat_hop_lights_the_source_it_gives_back():
    from playground.tui.widgets.hop_detail import CHANGED, packet_lines
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client svc/web")
        await pilot.press("r")
        await pilot.pause()
        player = pilot.app.player
        while player.current.event != "nat":
            assert player.step()
        pilot.app._moved()
        await pilot.pause()
        hop = pilot.app.query_one("#detail").hop
        assert hop.packet_before.src != hop.packet_after.src
        packet = packet_lines(hop.packet_before, hop.packet_after)
        lit = {packet.plain[s.start:s.end] for s in packet.spans if s.style == CHANGED}
        assert lit == {str(hop.packet_after.src)}
        inspector = pilot.app.query_one("#inspector")
        assert inspector.active == "conntrack-tab"
        pane = inspector.pane("conntrack")
        assert [pane.lines[n] for n in pane.line_styles][0].split()[4:6] == \
            hop.conntrack.split()[4:6]  # the entry that rewrote it, lit
