"""Rows of text in aligned columns, the first row a heading: `ps` and `ss` draw their tables with it,
the panel aligns its fd rows by the same widths.

Pure; no wcwidth, so plain scripts and the lesson checker need nothing beyond the standard library.
"""

from collections.abc import Sequence

Fragments = list[tuple[str, str]]


def column_widths(rows: Sequence[Sequence[str]], columns: int) -> list[int]:
    """Each column's width: its widest cell (0 for no rows)."""
    return [max((len(row[i]) for row in rows), default=0) for i in range(columns)]


def table_lines(rows: Sequence[Sequence[str]]) -> list[Fragments]:
    """Each column as wide as its widest cell, one space between columns, trailing blanks cut."""
    widths = column_widths(rows, len(rows[0]))
    return [[("class:heading" if index == 0 else "",
              " ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())]
            for index, row in enumerate(rows)]
