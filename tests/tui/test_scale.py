"""A big lab in the app: it opens behind a progress bar, the topology sums it up by group and
zooms on what is selected, the tree and the tables never build every row."""

from textual.app import App

from playground.cli import main
from playground.tui import topology_aggregate
from playground.tui.app import PlaygroundApp
from playground.tui.loading import LoadingScreen
from playground.tui.widgets import objects_tree
from playground.tui.widgets.text_pane import TextPane
from playground.tui.widgets.topology_view import TopologyView


def opening(path: str) -> PlaygroundApp:
    return PlaygroundApp(path=path, load=path, autoplay=False)


async def loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def picture(app: PlaygroundApp) -> str:
    view = app.query_one("#topology", TopologyView)
    return "\n".join(line.plain for line in view.picture(150).lines)


def pod_on(app: PlaygroundApp, node: str) -> str:
    return next(p.key for p in app.cluster.pods() if p.spec.node_name == node)


async def test_opening_a_big_lab_shows_its_progress_then_the_lab(big_lab_file, monkeypatch):
    steps = []
    report = LoadingScreen.report
    monkeypatch.setattr(LoadingScreen, "report",
                        lambda self, step, done, total: (steps.append(step),
                                                         report(self, step, done, total)))
    app = opening(big_lab_file)
    async with app.run_test(size=(160, 48)) as pilot:
        assert isinstance(app.screen, LoadingScreen) and app.lab is None
        # nothing to act on yet: only quitting is possible
        assert not app.check_action("send", ()) and app.check_action("quit", ())
        await loaded(pilot)
        assert not isinstance(app.screen, LoadingScreen) and app.check_action("send", ())
        assert len(app.cluster.nodes()) == 23 and app.path == big_lab_file
    order = list(dict.fromkeys(steps))
    assert order == ["reading", "objects", "controllers", "commands"]


async def test_a_file_that_fails_to_load_ends_the_app_with_one_line(tmp_path):
    broken = tmp_path / "broken.k8slab"
    broken.write_bytes(b"\x82\xa6format\xb2k8s-playground-lab\xa7ver")
    app = opening(str(broken))
    async with app.run_test(size=(80, 24)):
        await app.workers.wait_for_complete()
    assert app.load_error.startswith(f"{broken}:") and "\n" not in app.load_error
    assert app.return_code == 2


def test_a_missing_file_is_refused_before_any_screen(tmp_path, capsys):
    assert main(["open", str(tmp_path / "none.k8slab")]) == 2
    assert "cannot read it" in capsys.readouterr().err


async def test_the_topology_of_a_big_lab_is_drawn_by_group(big_lab_file, monkeypatch):
    monkeypatch.setattr(topology_aggregate, "NODES_PER_GROUP", 10)
    async with opening(big_lab_file).run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        app = pilot.app
        drawn = picture(app)
        assert "╭─ 23 nodes · 206 pods" in drawn
        assert "kind-control-plane … node-0006" in drawn and "node-0017 … node-0019" in drawn
        assert "╭─ node-0012" not in drawn and "node-0012 ·" not in drawn
        assert "╭─ kind-worker " in drawn  # the selected node, whole
        pod = pod_on(app, "node-0012")
        app.select(f"pod/{pod}")
        await pilot.pause()
        drawn = picture(app)
        assert "╭─ node-0012" in drawn and "node-0012 ·" in drawn
        assert pod.split("/")[1] in drawn
        assert "⊂ cni0" not in drawn
        await pilot.press("z")
        assert "⊂ cni0" in picture(app)


async def test_a_packet_on_a_big_lab_shows_the_nodes_it_crosses(big_lab_file):
    async with opening(big_lab_file).run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        app = pilot.app
        pod = pod_on(app, "node-0015")
        await app.run_line(f"trace pod/client pod/{pod}")
        while app.player.step():
            pass
        app.refresh_view()
        drawn = picture(app)
        assert "╭─ kind-worker " in drawn and "╭─ node-0015" in drawn
        box_line = next(line for line in drawn.splitlines() if pod.split("/")[1] in line
                        and "●" in line)
        assert box_line


async def test_a_node_box_lists_a_few_pods_and_counts_the_rest(big_lab_file, monkeypatch):
    monkeypatch.setattr(topology_aggregate, "PODS_SHOWN", 3)
    async with opening(big_lab_file).run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        app = pilot.app
        pods = [p for p in app.cluster.pods() if p.spec.node_name == "node-0003"]
        app.select(f"pod/{pods[-1].key}")
        await pilot.pause()
        drawn = picture(app)
        assert pods[-1].name in drawn  # the selected one is always among them
        assert f"… {len(pods) - 3} more pod" in drawn


async def test_the_tree_of_a_big_lab_is_filled_when_opened(big_lab_file, monkeypatch):
    monkeypatch.setattr(objects_tree, "GROUP", 10)
    async with opening(big_lab_file).run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        app = pilot.app
        tree = app.query_one("#objects", objects_tree.ObjectsTree)
        labels = [str(node.label) for node in tree._all_nodes()]
        assert not any("crowd-" in label for label in labels)
        assert any(label.startswith("node-0007 … node-0016") for label in labels)
        assert len(labels) < 60
        pod = pod_on(app, "node-0012")
        app.select(f"pod/{pod}")
        for _ in range(20):  # the branch fills, then the cursor moves after a refresh
            await pilot.pause()
            if tree.cursor_node is not None and tree.cursor_node.data == f"pod/{pod}":
                break
        assert tree.cursor_node.data == f"pod/{pod}"
        assert tree.cursor_node.parent.data == "node/node-0012"
        assert tree.cursor_node.parent.parent.is_expanded


class OnePane(App):
    def compose(self):
        yield TextPane(id="pane")


async def test_a_long_text_is_drawn_a_screenful_at_a_time():
    async with OnePane().run_test(size=(80, 24)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.update("\n".join(f"-A KUBE-SERVICES rule {n}" for n in range(100_000)),
                    {99_990: "reverse"})
        await pilot.pause()
        assert 0 < len(pane._cache) <= pane.size.height
        pane.scroll_to_line(99_990)
        await pilot.pause()
        shown = [pane.render_line(y).text for y in range(pane.size.height)]
        assert any("rule 99990" in line for line in shown)
        assert len(pane._cache) <= 2 * pane.size.height
