"""How the app tests drive the app: a lab that never plays on its own, the `:` line, and
waiting for the compare view without a wall clock."""

from textual.widgets import Input

from playground.tui.app import PlaygroundApp
from playground.tui.compare_view import CompareScreen


def app() -> PlaygroundApp:
    return PlaygroundApp(autoplay=False)


async def command(pilot, line: str) -> None:
    await pilot.press("colon")
    pilot.app.query_one("#command", Input).value = line
    await pilot.press("enter")
    await pilot.pause()


async def until_compared(pilot) -> CompareScreen:
    """The compare view, once the copy of the lab is built and the view is pushed."""
    for _ in range(200):
        if isinstance(pilot.app.screen, CompareScreen):
            await pilot.pause()
            return pilot.app.screen
        await pilot.pause()
    raise AssertionError("the compare view did not open")


def screen_text(pilot) -> str:
    """What the terminal shows now, as plain lines."""
    return "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())
