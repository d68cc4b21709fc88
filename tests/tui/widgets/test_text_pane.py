"""Long lines: the lit ones fold onto further rows, the others stay one row each."""

import pytest
from textual.app import App, ComposeResult

from playground.tui.widgets.text_pane import MORE, TextPane, rows_for


def test_rows_for_a_line_counts_the_marker_of_each_further_row():
    assert rows_for(10, 10) == 1
    assert rows_for(11, 10) == 2  # 10, then "↳ " and 1
    assert rows_for(18, 10) == 2  # 10 + 8
    assert rows_for(19, 10) == 3


class OnePane(App):
    def compose(self) -> ComposeResult:
        yield TextPane(id="pane")


def plain_rows(pane: TextPane) -> list[str]:
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


@pytest.mark.parametrize("wrap_all", [False, True])
async def test_a_wrapped_line_folds_and_the_lines_after_it_move_down(wrap_all):
    lines = ["short", "x" * 25 + "TARGET", "after", "y" * 30]
    async with OnePane().run_test(size=(20, 10)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.update(lines, wrapped={1})
        pane.set_wrap(wrap_all)
        await pilot.pause()
        width = pane.scrollable_content_region.width
        rows = plain_rows(pane)
        assert rows[0] == "short"
        assert rows[1] == "x" * width
        assert all(row.startswith(MORE.strip()) for row in rows[2:4] if "TARGET" in row)
        assert "TARGET" in "".join(rows[2:4])
        after = pane.row_of(2)
        assert rows[after] == "after" and pane.line_at(after) == (2, 0)
        assert pane.line_at(2) == (1, 1)
        if wrap_all:
            assert rows[after + 1] == "y" * width
        else:  # cut at the edge, one row
            assert rows[after + 1] == "y" * pane.size.width
            assert pane.virtual_size.height == after + 2


async def test_scrolling_to_a_line_keeps_it_in_view_in_a_short_pane():
    async with OnePane().run_test(size=(40, 4)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.update([f"line {n}" for n in range(50)])
        pane.scroll_to_line(30)
        await pilot.pause()
        assert "line 30" in plain_rows(pane)


async def test_a_scroll_asked_while_hidden_happens_once_the_pane_is_shown():
    async with OnePane().run_test(size=(40, 10)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.display = False
        await pilot.pause()
        pane.update([f"line {n}" for n in range(50)])
        pane.scroll_to_line(30)
        await pilot.pause()
        pane.display = True
        await pilot.pause()
        await pilot.pause()
        assert "line 30" in plain_rows(pane)


async def test_wrapping_keeps_the_top_line_at_the_top():
    async with OnePane().run_test(size=(20, 6)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.update([f"line {n} " + "x" * 30 for n in range(40)])
        await pilot.pause()
        pane.scroll_to(y=25, animate=False)
        await pilot.pause()
        pane.set_wrap(True)
        await pilot.pause()
        assert plain_rows(pane)[0].startswith("line 25 ")
        pane.set_wrap(False)
        await pilot.pause()
        assert plain_rows(pane)[0].startswith("line 25 ")
