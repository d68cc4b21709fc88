"""`:export pcap FILE [--all]` in the app: the packet on screen, or every one in the list."""

import struct

from driving import app, command
from textual.widgets import Static


def frames(path) -> int:
    data, count, offset = path.read_bytes(), 0, 0
    while offset < len(data):
        kind, length = struct.unpack("<II", data[offset:offset + 8])
        count += kind == 6
        offset += length
    return count


async def test_the_packet_on_screen_or_all_of_them_become_a_capture(tmp_path):
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "trace pod/client svc/web")
        await command(pilot, "trace pod/client pod/web-2")
        one, every = tmp_path / "one.pcapng", tmp_path / "all.pcapng"
        await command(pilot, f"export pcap {one}")
        await command(pilot, f"export pcap {every} --all")
        runs = pilot.app.player.runs
        assert frames(one) == len(runs[-1].hops)
        assert frames(every) == sum(len(run.hops) for run in runs) > frames(one)
        await command(pilot, "export pcap")
        error = pilot.app.query_one("#error", Static)
        assert error.display and "export pcap FILE [--all]" in str(error.render())
