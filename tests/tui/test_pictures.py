"""No committed picture (README screenshot or snapshot) shows a dialog it did not ask for:
a restore dialog left over from an earlier session once covered four of them."""

import html
import re
from pathlib import Path

import pytest

from playground.tools.screenshots import SCENES
from playground.tui.forms import DeleteForm, Dialog

ROOT = Path(__file__).parents[2]
SNAPSHOTS = sorted((ROOT / "tests" / "tui" / "__snapshots__").rglob("*.svg"))
SCREENSHOTS = sorted((ROOT / "screenshots").glob("*.svg"))


def _dialogs(base: type) -> list[type]:
    found = []
    for kind in base.__subclasses__():
        found += [kind, *_dialogs(kind)]
    return found


def markers() -> dict[str, tuple[str, ...]]:
    """What each dialog always shows, by its class name: every text in it, together."""
    shown = {"RestoreDialog": ("The last session ended without saving",),
             "AddMenu": ("Add to the lab",),
             "LessonPicker": ("Guided labs",),
             "HelpScreen": ("what it does",)}
    for kind in _dialogs(Dialog):
        if getattr(kind, "TITLE", ""):
            shown[kind.__name__] = (kind.TITLE, "Cancel")
    shown[DeleteForm.__name__] = ("This runs:", "Cancel")
    return shown


ASKED = {  # the snapshots whose scene is a dialog
    "TestScreens.test_help": {"HelpScreen"},
    "TestForms.test_add_pod_form": {"WorkloadForm"},
    "TestForms.test_add_pod_form_small": {"WorkloadForm"},
    "TestPackets.test_send_form": {"SendForm"},
    "TestPackets.test_send_form_with_size_and_df": {"SendForm"},
    "TestLabFiles.test_save_dialog": {"SaveDialog"},
    "TestLabFiles.test_open_dialog": {"OpenDialog"},
    **{name: set(scene.dialogs) for name, scene in SCENES.items()},
}


def text_of(svg: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", svg.read_text())).replace("\xa0", " ")


def test_the_markers_find_the_dialogs_they_name():
    assert {"RestoreDialog", "SendForm", "ServiceForm", "SaveDialog"} <= set(markers())
    assert SNAPSHOTS and SCREENSHOTS


@pytest.mark.parametrize("picture", SNAPSHOTS + SCREENSHOTS, ids=lambda path: path.stem)
def test_a_picture_shows_only_the_dialogs_it_asks_for(picture):
    text = text_of(picture)
    shown = {name for name, words in markers().items() if all(w in text for w in words)}
    assert shown == ASKED.get(picture.stem, set())
