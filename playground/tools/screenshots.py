"""`python -m playground.tools.screenshots [FOLDER]`: regenerate the SVGs in screenshots/.

Each scene runs in a state directory of its own, so no recovery file of an earlier session
(and no dialog offering to restore it) ever gets into a picture."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from textual.widgets import Input

from playground.tui.app import PlaygroundApp
from playground.tui.compare_view import CompareScreen

SHOP = ["kubectl create deployment shop --image=nginx --replicas=2 --port=80"]


@dataclass(frozen=True)
class Scene:
    """What a picture shows: steps from the default lab. A step is a command line, `dnat`
    (move the packet to the rule that rewrote its destination), `event:NAME` (to the first
    hop of that event), `end` (its last hop), `compared` (wait for the compare view), or
    `press:KEYS`."""

    steps: tuple[str, ...]
    size: tuple[int, int] = (160, 48)
    dialogs: tuple[str, ...] = ()  # the dialogs the picture asks for, by class name


SCENES = {
    "opening": Scene(()),
    "service-trace-dnat": Scene(("trace pod/client svc/web", "dnat")),
    "service-trace-dnat-small": Scene(("trace pod/client svc/web", "dnat"), size=(80, 24)),
    "egress": Scene(("trace pod/client internet", "end")),
    "load-balancer": Scene((*SHOP, "kubectl expose deployment shop --port=80 "
                                   "--type=LoadBalancer", "trace internet lb/shop", "dnat")),
    "bridge-zoomed": Scene(("trace pod/client pod/web-2", "event:bridge", "press:z")),
    "add-service-form": Scene((*SHOP, "press:a s"), dialogs=("ServiceForm",)),
    "compare-bridge-ptp": Scene(("trace pod/client svc/web", "compare ptp", "compared",
                                 "press:d d d")),
}


def _is_dnat(hop) -> bool:
    return hop.event == "netfilter" and "DNAT" in (hop.rule or "")


async def _play(app: PlaygroundApp, pilot, step: str) -> None:
    player = app.player
    if step in ("dnat", "end") or step.startswith("event:"):
        wanted = {"dnat": _is_dnat, "end": lambda hop: hop is player.hops[-1]}.get(
            step, lambda hop: hop.event == step.removeprefix("event:"))
        while not wanted(player.current):
            if not player.step():
                raise SystemExit(f"no hop for {step!r}: the scene no longer shows it")
        app._moved()
    elif step == "compared":
        for _ in range(400):  # the copy of the lab builds in the background
            if isinstance(app.screen, CompareScreen):
                break
            await pilot.pause()
        else:
            raise SystemExit("the compare view did not open")
    elif step.startswith("press:"):
        await pilot.press(*step.removeprefix("press:").split())
    else:
        problem = await app.run_lines([step])
        if problem:
            raise SystemExit(f"{step}: {problem}")


async def shoot(name: str, scene: Scene, folder: Path) -> Path:
    app = PlaygroundApp(autoplay=False)
    app.animation_level = "none"  # a tab's underline caught sliding made pictures differ
    async with app.run_test(size=scene.size) as pilot:
        await pilot.pause()
        app.query_one("#command", Input).cursor_blink = False
        for step in scene.steps:
            await _play(app, pilot, step)
            await pilot.pause()
        await pilot.pause()
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(folder)))


def isolated(name: str, scene: Scene, folder: Path) -> Path:
    """One scene, with its own empty state directory."""
    before = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory(prefix="k8s-playground-shot-") as state:
        os.environ["XDG_STATE_HOME"] = state
        try:
            return asyncio.run(shoot(name, scene, folder))
        finally:
            if before is None:
                del os.environ["XDG_STATE_HOME"]
            else:
                os.environ["XDG_STATE_HOME"] = before


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    folder.mkdir(exist_ok=True)
    for name, scene in SCENES.items():
        print(isolated(name, scene, folder))


if __name__ == "__main__":
    main()
