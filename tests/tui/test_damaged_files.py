"""A damaged lab file in the app: its one line, then an offer of its backup or the recovery
file, which opens in its place (playground/tui/lab_file_actions.py)."""

from pathlib import Path

from driving import app
from textual.widgets import Button, Input, Static

from playground.cluster.lab import build_default_lab
from playground.saves import recovery_path, save_lab
from playground.session.lab import Lab
from playground.tui.app import PlaygroundApp
from playground.tui.lab_files import DamagedDialog, OpenDialog


async def damaged_with_backup(folder: Path, recovery: bool = False) -> Path:
    """lab.k8slab, damaged, beside its whole backup (holding Deployment `kept`), and with
    `recovery` a recovery file holding Deployment `recovered`."""
    lab = Lab(await build_default_lab())
    try:
        await lab.run("kubectl create deployment kept --image=nginx")
        path = folder / "lab.k8slab"
        await save_lab(lab, path)
        await save_lab(lab, path)  # the first is now lab.k8slab.bak
        if recovery:
            await lab.run("kubectl create deployment recovered --image=nginx")
            recovery_path().parent.mkdir(parents=True, exist_ok=True)
            await save_lab(lab, recovery_path(), keep_backup=False)
    finally:
        await lab.close()
    data = bytearray(path.read_bytes())
    data[-40] ^= 0x10   # one flipped bit: the checksum no longer matches
    path.write_bytes(bytes(data))
    return path


async def test_open_of_a_damaged_file_says_so_then_opens_its_backup(tmp_path):
    path = await damaged_with_backup(tmp_path)
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        before = pilot.app.cluster
        await pilot.app.run_line(f"open {path}")
        await pilot.pause()
        error = str(pilot.app.query_one("#error", Static).render())
        assert error.startswith(f"✗ {path}: the file is damaged") and "\n" not in error
        assert pilot.app.cluster is before
        dialog = pilot.app.screen
        assert isinstance(dialog, DamagedDialog) and dialog.alternatives == (
            Path(f"{path}.bak"),)
        assert str(dialog.query_one("#instead-0", Button).label) == "Open its backup"
        await pilot.press("enter")   # the first offer has the focus
        await pilot.pause()
        assert not isinstance(pilot.app.screen, DamagedDialog)
        assert pilot.app.cluster is not before
        assert pilot.app.cluster.api.peek("Deployment", "default", "kept") is not None
        assert pilot.app.path == f"{path}.bak" and not pilot.app.dirty


async def test_the_open_dialog_gives_way_to_the_offer_and_cancel_keeps_the_lab(tmp_path):
    path = await damaged_with_backup(tmp_path)
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        before = pilot.app.cluster
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OpenDialog)
        pilot.app.screen.query_one("#path", Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DamagedDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OpenDialog), "cancel: back where the user was"
        assert "the file is damaged" in pilot.app.screen.shown_error
        assert pilot.app.cluster is before


async def test_started_on_a_damaged_file_the_app_offers_the_recovery_file_too(tmp_path):
    path = await damaged_with_backup(tmp_path, recovery=True)
    opening = PlaygroundApp(path=str(path), load=str(path), autoplay=False)
    async with opening.run_test(size=(160, 48)) as pilot:
        for _ in range(50):
            if isinstance(pilot.app.screen, DamagedDialog):
                break
            await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, DamagedDialog)
        assert dialog.alternatives == (Path(f"{path}.bak"), recovery_path())
        await pilot.click("#instead-1")
        for _ in range(50):
            if pilot.app.cluster is not None:
                break
            await pilot.pause()
        assert pilot.app.cluster.api.peek("Deployment", "default", "recovered") is not None
        assert pilot.app.path is None and pilot.app.dirty, "a recovered lab is not yet saved"
        assert pilot.app.load_error is None


async def test_started_on_a_damaged_file_cancel_ends_with_its_one_line(tmp_path):
    path = await damaged_with_backup(tmp_path)
    opening = PlaygroundApp(path=str(path), load=str(path), autoplay=False)
    async with opening.run_test(size=(160, 48)) as pilot:
        for _ in range(50):
            if isinstance(pilot.app.screen, DamagedDialog):
                break
            await pilot.pause()
        await pilot.click("#cancel")
        await pilot.pause()
    assert opening.return_code == 2
    assert opening.load_error.startswith(f"{path}: the file is damaged")
    assert opening.load_error.endswith(f"; open {path}.bak instead")
