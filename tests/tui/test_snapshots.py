"""What a user sees, screen by screen. The packet never moves on its own here (autoplay off)
and the cursor does not blink, so the pictures are stable."""

from pathlib import Path

import pytest
from driving import app, command, until_compared
from textual.widgets import Input

from playground.tui.app import PlaygroundApp
from playground.tui.loading import LoadingScreen


@pytest.fixture(autouse=True)
def steady_cursors(monkeypatch):
    """Every text box keeps its cursor lit: one caught mid-blink made a picture differ."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


async def ready(pilot) -> None:
    await pilot.pause()
    pilot.app.query_one("#command", Input).cursor_blink = False


async def until_dnat(pilot) -> None:
    player = pilot.app.player
    while player.current.event != "netfilter" or "DNAT" not in (player.current.rule or ""):
        await pilot.press("right")
    await pilot.pause()


class TestScreens:
    def test_opening_screen(self, snap_compare):
        """The user starts the app: the lab on the left, kind-worker's routes on the right."""
        assert snap_compare(app(), terminal_size=(160, 48), run_before=ready)

    def test_opening_screen_small(self, snap_compare):
        """The same screen in an 80x24 terminal."""
        assert snap_compare(app(), terminal_size=(80, 24), run_before=ready)

    def test_help(self, snap_compare):
        """The user presses ? for help."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("question_mark")

        assert snap_compare(app(), terminal_size=(120, 40), run_before=run_before)


class TestForms:
    def test_add_pod_form(self, snap_compare):
        """a then p: the add-pod form, with the command it will run."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("a", "p")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_add_pod_form_small(self, snap_compare):
        """The same form fits an 80x24 terminal."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("a", "p")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)


class TestPackets:
    def test_send_form(self, snap_compare):
        """The user presses s: the form to pick a source and a destination."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("s")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_service_trace_paused_on_the_dnat_hop(self, snap_compare):
        """Pod to Service, stepped to the rule that rewrote the destination."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client svc/web")
            await until_dnat(pilot)

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_service_trace_paused_on_the_dnat_hop_small(self, snap_compare):
        """The same hop in an 80x24 terminal: the lit rule wrapped in the iptables tab, the
        hop list (where shortened, what happened kept) over the packet before and after."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client svc/web")
            await until_dnat(pilot)

        assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)

    def test_cilium_trace_paused_on_the_socket_lb_hop(self, snap_compare):
        """A Cilium lab, pod to Service: the first hop is cil_sock4_connect choosing the
        backend at connect time; the inspector shows the BPF tab with that frontend lit."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client svc/web")
            player = pilot.app.player
            while player.current.program is None or \
                    not player.current.program.startswith("cil_sock4_connect"):
                await pilot.press("right")
            await pilot.pause()

        cilium = PlaygroundApp(cni="cilium", autoplay=False)
        assert snap_compare(cilium, terminal_size=(160, 48), run_before=run_before)

    def test_routes_tab_on_the_forward_hop(self, snap_compare):
        """Across nodes: the node route that sent the packet to the other node, lit."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client pod/web-1")
            while pilot.app.player.current.event != "forward":
                await pilot.press("right")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_zoomed_topology_on_the_bridge(self, snap_compare):
        """z: the veths and the bridge they hang on, the packet crossing cni0."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client pod/web-2")
            while pilot.app.player.current.event != "bridge":
                await pilot.press("right")
            await pilot.press("z")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_vxlan_trace_paused_on_the_encapsulate_hop(self, snap_compare):
        """A vxlan lab, pod to pod across nodes, stepped to where flannel.1 wraps the packet:
        the outer header around the inner one, the Tunnel tab lighting the entries used."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client pod/web-1")
            while pilot.app.player.current.event != "encapsulate":
                await pilot.press("right")
            await pilot.pause()

        assert snap_compare(PlaygroundApp(cni="vxlan", autoplay=False),
                            terminal_size=(160, 48), run_before=run_before)

    def test_send_form_with_size_and_df(self, snap_compare):
        """s, then a size and DF: the command the form will run, in an 80x24 terminal."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("s")
            await pilot.pause()
            pilot.app.screen.query_one("#size", Input).value = "1500"
            await pilot.click("#df")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)

    def test_conntrack_after_a_reply(self, snap_compare):
        """The reply traced back; the conntrack tab of the client's node."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client svc/web")
            await pilot.press("r")
            await pilot.pause()
            pilot.app.player.jump(len(pilot.app.player.hops) - 1)
            pilot.app.follow_packet = False
            pilot.app.refresh_view()
            pilot.app.query_one("#inspector").active = "conntrack-tab"
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)


class TestIpvs:
    def test_ipvs_tab_on_the_scheduling_hop(self, snap_compare):
        """An IPVS lab: pod to Service stepped to the hop where IPVS chose a real server;
        the IPVS tab lights the virtual service, the real server and the connection."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "lab new --proxy-mode ipvs")
            await command(pilot, "trace pod/client svc/web")
            while pilot.app.player.current.event != "ipvs":
                await pilot.press("right")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)


class TestNftables:
    def test_nftables_tab_on_the_dnat_hop(self, snap_compare):
        """A lab with kube-proxy in nftables mode: pod to Service stepped to the hop where
        the endpoint chain DNATs; the nftables tab lights the dnat rule and the service-ips
        element, and tints the rules the packet went through."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "lab new --proxy-mode nftables")
            await command(pilot, "trace pod/client svc/web")
            while not (pilot.app.player.current.event == "nftables"
                       and pilot.app.player.current.rewrote):
                await pilot.press("right")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)


class TestCommandLine:
    def test_created_service(self, snap_compare):
        """kubectl create deployment and expose as a LoadBalancer, then kubectl get svc."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "kubectl create deployment shop --image=nginx --replicas=2 "
                                 "--port=80")
            await command(pilot, "kubectl expose deployment shop --port=80 --type=LoadBalancer")
            await command(pilot, "kubectl get svc")

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_error_in_the_command_line(self, snap_compare):
        """A mistake is one line under the command line, which stays open."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "trace pod/client svc/nope")

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)


class TestLabFiles:
    def test_save_dialog(self, snap_compare):
        """ctrl+s on a lab never saved: where to save it."""

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("ctrl+s")
            await pilot.pause()
            pilot.app.screen.query_one("#path", Input).cursor_blink = False

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_open_dialog(self, snap_compare, monkeypatch):
        """ctrl+o: the labs in saves/ to pick from."""
        monkeypatch.chdir(Path(__file__).parents[2])

        async def run_before(pilot):
            await ready(pilot)
            await pilot.press("ctrl+o")
            await pilot.pause()
            pilot.app.screen.query_one("#path", Input).cursor_blink = False

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_lesson_pane_with_a_task_done(self, snap_compare):
        """A guided lab: its text, one task ticked, the hint for the next."""

        async def run_before(pilot):
            await ready(pilot)
            await command(pilot, "lesson pod-to-service")
            await command(pilot, "trace pod/client svc/web")
            player = pilot.app.player
            while player.step():  # the tick waits for the packet's last hop
                pilot.app._moved()
            await pilot.press("h")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)


class TestBigLab:
    def test_progress_screen(self, snap_compare):
        """The user opens a big lab file: a bar says how far the rebuild is."""

        async def run_before(pilot):
            await ready(pilot)
            screen = LoadingScreen("saves/big.k8slab")
            await pilot.app.push_screen(screen)
            await pilot.pause()
            screen.report("objects", 1_200, 4_000)
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(100, 30), run_before=run_before)

    def test_topology_by_group(self, snap_compare, big_lab_file):
        """A 23-node lab: nodes summed up by group, pods by node, and the selected pod's
        node drawn whole."""

        async def run_before(pilot):
            await pilot.app.workers.wait_for_complete()
            await ready(pilot)
            pod = next(p.key for p in pilot.app.cluster.pods()
                       if p.spec.node_name == "node-0012")
            pilot.app.select(f"pod/{pod}")
            tree = pilot.app.query_one("#objects")
            for _ in range(20):  # the branch fills, then the cursor moves after a refresh
                await pilot.pause()
                if tree.cursor_node is not None and tree.cursor_node.data == f"pod/{pod}":
                    break
            await pilot.pause()

        opening = PlaygroundApp(path=big_lab_file, load=big_lab_file, autoplay=False)
        assert snap_compare(opening, terminal_size=(160, 48), run_before=run_before)


async def compared(pilot, line: str) -> None:
    """Trace, then compare, and wait for the compare view (the clone takes a moment)."""
    await ready(pilot)
    await command(pilot, line)
    await command(pilot, "compare ptp")
    await until_compared(pilot)


class TestCompare:
    def test_service_trace_on_bridge_and_ptp(self, snap_compare):
        """A pod-to-Service packet compared with ptp, stepped to the DNAT hop (d twice)."""

        async def run_before(pilot):
            await compared(pilot, "trace pod/client svc/web")
            await pilot.press("d", "d", "d")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(160, 48), run_before=run_before)

    def test_same_node_compared_small(self, snap_compare):
        """In 80x24: on one node, cni0 switches what ptp receives and routes."""

        async def run_before(pilot):
            await compared(pilot, "trace pod/client pod/web-2")
            await pilot.press("right", "right")
            await pilot.pause()

        assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)
