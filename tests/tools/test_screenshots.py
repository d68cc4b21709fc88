"""The README's pictures: each scene in a state of its own, showing only what it asks for."""

import os
from pathlib import Path

from playground.saves import recovery_path
from playground.tools.screenshots import SCENES, Scene, isolated


def test_a_scene_never_sees_an_earlier_sessions_recovery_file(tmp_path):
    left = recovery_path()  # the state directory the test run gives every test
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(b"a lab an earlier session kept")
    before = os.environ["XDG_STATE_HOME"]
    picture = isolated("opening", Scene(()), tmp_path)
    assert "Restore your last lab" not in picture.read_text().replace("&#160;", " ")
    assert os.environ["XDG_STATE_HOME"] == before and left.is_file()


def test_every_scene_of_the_readme_is_made():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    shown = {line.split("screenshots/")[1].split(".svg")[0]
             for line in readme.splitlines() if "](screenshots/" in line
             for line in line.split("](")[1:] if line.startswith("screenshots/")}
    assert shown <= set(SCENES)
