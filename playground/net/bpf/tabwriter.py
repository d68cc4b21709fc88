"""Go's text/tabwriter as the cilium CLI configures it (minwidth 5, padding 3, spaces)."""

from __future__ import annotations


def tabwrite(rows: list[list[str]], minwidth: int = 5, padding: int = 3,
             last_padded: bool = True) -> str:
    """Every cell is tab-terminated, as cilium's printers write them: all columns padded;
    `last_padded=False`: the last cell ends the line instead, so it is printed as it is."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    widths = [max(minwidth, max(len(row[i]) for row in rows if i < len(row)) + padding)
              for i in range(columns)]
    if not last_padded:
        widths[-1] = 0
    return "".join("".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + "\n"
                   for row in rows)
