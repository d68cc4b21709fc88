"""What a user sees: the app on its default lab, at both supported sizes."""

from playground.tui.app import PlaygroundApp


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class TestDefaultLab:
    def test_opens_on_the_default_lab(self, snap_compare):
        """The user starts the app: nodes and pods left, kind-worker's routes right."""
        assert snap_compare(PlaygroundApp(), terminal_size=(160, 48), run_before=settle)

    def test_readable_at_80x24(self, snap_compare):
        """The same screen in a small terminal."""
        assert snap_compare(PlaygroundApp(), terminal_size=(80, 24), run_before=settle)

    def test_trace_from_the_command_line(self, snap_compare):
        """The user presses : and traces from the client pod to web-1 on the other node."""

        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("colon")
            await pilot.press(*"trace pod/client pod/web-1")
            await pilot.press("enter")
            await pilot.pause()

        assert snap_compare(PlaygroundApp(), terminal_size=(160, 48), run_before=run_before)

    def test_help(self, snap_compare):
        """The user presses ? for help."""

        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("question_mark")
            await pilot.pause()

        assert snap_compare(PlaygroundApp(), terminal_size=(100, 30), run_before=run_before)
