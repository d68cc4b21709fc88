"""The app's lab files: load one behind a progress bar, save, open, restore after a crash,
and, when a file is damaged, offer its backup or the recovery file instead."""

from __future__ import annotations

from pathlib import Path

from playground.saves import (
    LabFileError,
    discard_recovery,
    load_lab,
    pending_recovery,
    recovery_path,
    save_lab,
)
from playground.session.lab import Lab
from playground.tui.lab_files import DamagedDialog, OpenDialog, PathDialog, SaveDialog, offer
from playground.tui.loading import LoadingScreen
from playground.tui.widgets.objects_tree import ObjectsTree


class LabFileActions:
    """Mixed into the app: what it does with lab files."""

    async def _first_load(self, path: str, recovered: bool = False) -> None:
        try:
            lab = await self.load_with_progress(path)
        except LabFileError as problem:
            dialog = offer(problem)
            instead = await self.push_screen_wait(dialog) if dialog is not None else None
            if instead is not None:
                await self._first_load(str(instead), instead == recovery_path())
                return
            self.load_error = str(problem)
            self.exit(return_code=2)
            return
        self._take_lab(lab)
        self.path, self.dirty = (None, True) if recovered else (path, False)
        self.query_one("#objects", ObjectsTree).focus()

    async def load_with_progress(self, path: str) -> Lab:
        """Load a lab file behind a screen with a progress bar; LabFileError as load_lab."""
        screen = LoadingScreen(path)
        self.loading = True
        await self.push_screen(screen)
        try:
            await screen.painted.wait()  # the bar first: the load keeps the loop busy
            return await load_lab(path, screen.report)
        finally:
            self.loading = False
            if self.screen is screen:
                self.pop_screen()

    async def _restore(self, wanted: bool | None) -> None:
        if wanted:
            await self.open_from(str(pending_recovery()), recovered=True)
        else:
            discard_recovery()

    async def save_to(self, path: str) -> str | None:
        self.lab.layout = self._layout()
        try:
            await save_lab(self.lab, path)
        except LabFileError as problem:
            return str(problem)
        self.path, self.dirty = path, False
        discard_recovery()
        self.notify(f"saved {path}")
        return None

    async def open_from(self, path: str, recovered: bool = False) -> str | None:
        try:
            lab = await self.load_with_progress(path)  # a bad file leaves the lab as it was
        except LabFileError as problem:
            dialog = offer(problem)
            if dialog is not None:
                self.push_screen(dialog, self._open_instead)
            return str(problem)
        old = self.lab
        self._take_lab(lab)
        self.path, self.dirty = (None, True) if recovered else (path, False)
        if old is not None:
            await old.close()
        self.notify("restored the last session's lab" if recovered else f"opened {path}")
        return None

    async def _open_instead(self, instead: Path | None) -> None:
        """The backup or recovery file chosen in place of a damaged one."""
        if instead is None:
            return
        while isinstance(self.screen, PathDialog):  # the open dialog the damaged file failed
            self.pop_screen()
        problem = await self.open_from(str(instead), recovered=instead == recovery_path())
        if problem and not isinstance(self.screen, DamagedDialog):
            self.notify(problem, severity="error")

    def action_save(self) -> None:
        if self.path:
            self.run_worker(self.run_line("save"))
        else:
            self.action_save_as()

    def action_save_as(self) -> None:
        self.push_screen(SaveDialog(self.path or "saves/my-lab.k8slab"))

    def action_open(self) -> None:
        self.push_screen(OpenDialog())
