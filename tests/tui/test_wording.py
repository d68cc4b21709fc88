"""What the app says: the help matches the forms, errors read as Kubernetes writes them,
dialogs show what they name in full."""

from pathlib import Path

import pytest
from driving import app, command, screen_text
from textual.widgets import Select, Static

from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES
from playground.tui.help import HelpScreen
from playground.tui.lab_files import RestoreDialog

HELP = (Path(__file__).parents[2] / "playground" / "tui" / "help.md").read_text()


async def test_the_help_and_the_palette_offer_what_the_new_lab_form_offers():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        offered = [value for _, value in pilot.app.screen.query_one("#cni", Select)._options
                   if value is not Select.NULL]
        assert sorted(offered) == sorted(CNI_PLUGINS)
        line = next(row for row in HELP.splitlines() if row.startswith("| ctrl+n |"))
        assert all(name in line for name in [*CNI_PLUGINS, *PROXY_MODES, *LB_PROVIDERS])
        palette = next(c.help for c in pilot.app.get_system_commands(pilot.app.screen)
                       if c.title == "New lab")
        assert all(name in palette for name in CNI_PLUGINS)


def test_the_help_lists_the_keys_of_the_tabs_and_wrapping():
    assert "| `[` / `]`, `1`-`6` |" in HELP and "| `w` |" in HELP


@pytest.mark.parametrize(("line", "said"), [
    ("kubectl delete pod nope", 'pod "default/nope" not found'),
    ("kubectl delete svc nope", 'service "default/nope" not found'),
])
async def test_an_error_line_carries_no_stray_quotes(line, said):
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, line)
        assert str(pilot.app.query_one("#error", Static).render()) == f"✗ {said}"


async def test_an_error_names_the_kubernetes_field():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl create service nodeport np --tcp=80:80")
        await command(pilot, "kubectl patch service np -p "
                             "'{\"spec\":{\"externalTrafficPolicy\":\"Nope\"}}'")
        error = str(pilot.app.query_one("#error", Static).render())
        assert "spec.externalTrafficPolicy: Unsupported value" in error
        assert "_" not in error.split(":", 1)[1]


async def test_the_restore_dialog_shows_the_whole_path():
    path = Path("/home/learner/.local/state/k8s-playground-with-a-long-name/recovery.k8slab")
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pilot.app.push_screen(RestoreDialog(path))
        await pilot.pause()
        await pilot.pause()
        shown = "".join(line.strip(" │") for line in screen_text(pilot).splitlines())
        assert str(path) in shown


async def test_help_opens_and_closes():
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)
