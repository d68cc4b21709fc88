"""`python -m playground.tools.screenshots`: regenerate the SVGs in screenshots/."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import Input

from playground.tui.app import PlaygroundApp

SCENES = {  # each step: a command line, dnat/end (move the packet), or press:KEYS
    "opening": [],
    "service-trace-dnat": ["trace pod/client svc/web", "dnat"],
    "egress": ["trace pod/client internet", "end"],
    "load-balancer": ["kubectl create deployment shop --image=nginx --replicas=2 --port=80",
                      "kubectl expose deployment shop --port=80 --type=LoadBalancer",
                      "trace internet lb/shop", "dnat"],
    "bridge-zoomed": ["trace pod/client pod/web-2", "press:right right", "press:z"],
    "add-service-form": ["kubectl create deployment shop --image=nginx --replicas=2 --port=80",
                         "press:a s"],
    "compare-bridge-ptp": ["trace pod/client svc/web", "compare ptp", "press:d d d"],
}


async def shoot(name: str, steps: list[str], folder: Path) -> Path:
    app = PlaygroundApp(autoplay=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.query_one("#command", Input).cursor_blink = False
        for step in steps:
            player = app.player
            if step == "dnat":
                while player.current and "DNAT" not in (player.current.rule or ""):
                    if not player.step():
                        break
                app._moved()
            elif step == "end":
                player.jump(len(player.hops) - 1)
                app._moved()
            elif step.startswith("press:"):
                await pilot.press(*step[6:].split())
            else:
                await app.run_line(step)
            await pilot.pause()
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(folder)))


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    folder.mkdir(exist_ok=True)
    for name, steps in SCENES.items():
        print(asyncio.run(shoot(name, steps, folder)))


if __name__ == "__main__":
    main()
