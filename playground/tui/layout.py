"""How the panes share the terminal: tighter when it is small, stacked when it is narrow."""

from __future__ import annotations

from textual.app import App

SMALL = (110, 34)  # below this width or height the panes are packed tighter
NARROW = 110  # below this width the hop list and the hop pane are stacked, each full width
TREE_SHARE = 0.3  # the lab tree widens with the terminal up to this share of its width
TREE_ROOM = {True: 24, False: 38}  # the tree's narrowest width, small or not


def fit(app: App, width: int, height: int) -> None:
    """Lay the screen out for a terminal of this size."""
    screen = app.screen
    small = width < SMALL[0] or height < SMALL[1]
    screen.set_class(width < NARROW, "narrow")
    if small != screen.has_class("small"):
        screen.set_class(small, "small")
        app.query_one("Footer").compact = small
        app.query_one("#objects").guide_depth = 2 if small else 4
        show_topology(app, not small)  # v shows it again
    fit_tree(app, width)


def fit_tree(app: App, width: int | None = None) -> None:
    """The tree as wide as its longest row, within its share of the terminal (of what the
    lesson pane leaves, when a guided lab is open)."""
    width = width or app.size.width
    lesson = app.query_one("#lesson")
    if lesson.display:
        width -= int(lesson.styles.width.value) if lesson.styles.width else 0
    tree = app.query_one("#objects")
    least = TREE_ROOM[app.screen.has_class("small")]
    wanted = tree.virtual_size.width + 3  # its borders and scroll bar
    tree.styles.width = max(least, min(wanted, int(width * TREE_SHARE)))


def show_topology(app: App, shown: bool) -> None:
    """Show or hide the drawn topology; while hidden one line says so and how to see it."""
    app.query_one("#topology-scroll").display = shown
    app.query_one("#topology-note").display = not shown
