"""The app's own settings a lab keeps (which pane, which tab, how fast): a small map that a
lab file can hold, checked when a lab is given one."""

from __future__ import annotations

from typing import Any

MAX_LAYOUT = 64
MAX_TEXT = 4_096


class LabFileError(ValueError):
    """One line: which file, and what is wrong with it."""


def check_layout(layout: Any, where: str) -> dict[str, str | int | bool]:
    if not isinstance(layout, dict) or len(layout) > MAX_LAYOUT:
        raise LabFileError(f"{where}: expected a map of at most {MAX_LAYOUT} entries")
    for key, value in layout.items():
        if not isinstance(key, str) or len(key) > 64:
            raise LabFileError(f"{where}: key {key!r} must be a string of at most 64 characters")
        if not isinstance(value, (str, int, bool)) or isinstance(value, str) and \
                len(value) > MAX_TEXT:
            raise LabFileError(f"{where}.{key}: must be a short string, an integer or a "
                               "boolean")
    return layout
