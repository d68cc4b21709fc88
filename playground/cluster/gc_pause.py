"""Pausing Python's cycle collector while a lab is encoded, decoded or checked."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hundreds of thousands of new objects, none of them in a cycle: the collector would
    walk the whole heap (the open lab too) again and again and find nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
