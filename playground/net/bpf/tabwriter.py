"""Go's text/tabwriter as the cilium CLI configures it (minwidth 5, padding 3, spaces)."""

from __future__ import annotations


def tabwrite(rows: list[list[str]], minwidth: int = 5, padding: int = 3) -> str:
    """Every cell is tab-terminated, as cilium's printers write them: all columns padded."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    widths = [max(minwidth, max(len(row[i]) for row in rows if i < len(row)) + padding)
              for i in range(columns)]
    return "".join("".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + "\n"
                   for row in rows)
