"""The app's two benchmark figures on a lab file, measured headless with Textual's Pilot:

- ui_first_frame: wall-clock seconds from creating the app to its first screen (the
  progress bar) being up;
- ui_key: once the lab is loaded, the seconds of CPU the app spends on one key press (the
  cursor moving to the next object in the lab tree, which redraws the tables and the
  topology) until it is idle again with the new frame drawn; the median of a few presses.
  CPU time, not wall-clock: Pilot waits for idleness by sleeping in steps, which adds about
  100 ms to any key, even an unbound one, and other processes on the machine add more.

`python -m playground.tools.bench_ui FILE` prints both as JSON lines, in the shape of
`python -m playground.tools.bench`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time

from playground.tui.app import PlaygroundApp
from playground.tui.loading import LoadingScreen

SIZE = (160, 48)
PRESSES = 7


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def measure_ui(path: str, size: tuple[int, int] = SIZE,
                     presses: int = PRESSES) -> list[dict]:
    """[ui_first_frame, ui_key] for the lab file at path."""
    started = time.perf_counter()
    app = PlaygroundApp(path=path, load=path, autoplay=False)
    async with app.run_test(size=size) as pilot:
        while not isinstance(app.screen, LoadingScreen) and app.lab is None:
            await asyncio.sleep(0.005)
        first_frame = time.perf_counter() - started
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.load_error is not None:
            raise ValueError(app.load_error)
        app.query_one("#objects").focus()
        timings = []
        for number in range(presses):
            began = time.process_time()
            await pilot.press("down" if number % 2 == 0 else "up")
            await pilot.pause()
            timings.append(time.process_time() - began)
        cluster = app.cluster
        counts = {"nodes": len(cluster.nodes()), "pods": len(cluster.pods()),
                  "services": len(cluster.services())}
    return [{"figure": "ui_first_frame", **counts, "seconds": round(first_frame, 3),
             "peak_rss_mb": peak_rss_mb()},
            {"figure": "ui_key", **counts, "seconds": round(statistics.median(timings), 4),
             "peak_rss_mb": peak_rss_mb()}]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m playground.tools.bench_ui LAB_FILE", file=sys.stderr)
        return 2
    for figure in asyncio.run(measure_ui(args[0])):
        print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
