"""Text measured in terminal cells, and cut to a width at a word with `…`.

Pure. A CJK socket name takes two cells a character, an emoji or `☎` may take
one or two: `len()` is not the width a terminal draws, `wcwidth` is.
"""

from wcwidth import wcswidth, wcwidth

Fragments = list[tuple[str, str]]
ELLIPSIS = "…"


def cells(text: str) -> int:
    """The number of terminal cells `text` takes (a control character counts as one)."""
    width = wcswidth(text)
    if width >= 0:
        return width
    return sum(size if (size := wcwidth(char)) >= 0 else 1 for char in text)


def cut(text: str, width: int, more: bool = False) -> str:
    """`text` if it fits in `width` cells; else its longest prefix ending at a word, then `…`.

    `more`: something follows that will not be shown, so the `…` is needed anyway.
    """
    if cells(text) <= (width - 1 if more else width):
        return text.rstrip() + ELLIPSIS if more else text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        size = cells(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    prefix = "".join(kept)
    at_word = prefix.rstrip()
    space = max(at_word.rfind(" "), at_word.rfind(","))
    if space > len(at_word) // 2:
        at_word = at_word[:space]
    return at_word.rstrip(" ,:;(") + ELLIPSIS


def cut_left(text: str, width: int) -> str:
    """`text` if it fits in `width` cells; else `…` and its longest end that fits: a path keeps its file name."""
    if cells(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for char in reversed(text):
        size = cells(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return ELLIPSIS + "".join(reversed(kept))


def fit(line: Fragments, width: int) -> Fragments:
    """A line of styled fragments cut to `width` cells, at a word, with `…`: never wrapped."""
    if sum(cells(text) for _, text in line) <= width:
        return line
    out: Fragments = []
    used = 0
    for style, text in line:
        size = cells(text)
        if used + size <= width - 1:  # the ellipsis still fits after it
            out.append((style, text))
            used += size
            continue
        out.append((style, cut(text, width - used, more=True)))
        break
    return out


def wrap(text: str, width: int, indent: str = "", hanging: str = "    ") -> list[str]:
    """Words of `text` on lines of at most `width` cells; lines after the first start with `hanging`."""
    lines: list[str] = []
    line = indent
    for word in text.split(" "):
        candidate = f"{line} {word}" if line.strip() else line + word
        if cells(candidate) <= width or not line.strip():
            line = candidate
        else:
            lines.append(line)
            line = hanging + word
    lines.append(line)
    return [cut(item, width) for item in lines]


def columns(name: str, text: str, width: int, column: int) -> list[tuple[str, str]]:
    """A `name  description` row as (left, right) pairs of lines: the description starts at `column`
    and wraps at words under itself (a hanging indent); a name too wide for the column has a line of its own."""
    width = max(width, column + 12)
    pairs: list[tuple[str, str]] = []
    if cells(name) >= column:
        pairs.append((name, ""))
        name = ""
    margin = " " * column
    for index, line in enumerate(wrap(text, width, margin, margin)):
        left = name + " " * (column - cells(name)) if index == 0 else margin
        pairs.append((left, line[column:]))
    return pairs


BULLETS = ("↳ ", "· ", "✓ ", "✗ ", "• ")  # a line starting with one is a list item: its text hangs under its text


def hanging(line: Fragments, width: int) -> list[Fragments]:
    """A one-style message too wide for the screen (`hint: ...`), wrapped at words, the lines
    after the first indented under its text, not under its label."""
    if len(line) != 1 or cells(line[0][1]) <= width:
        return [line]
    style, text = line[0]
    body = text.lstrip(" ")
    lead = text[: len(text) - len(body)]
    label, sep, _ = body.partition(": ")
    if body.startswith(BULLETS):
        indent = lead + "  "
    elif sep and len(label) <= 8 and " " not in label:
        indent = lead + " " * (len(label) + len(sep))
    else:
        indent = lead + "    "
    return [[(style, part)] for part in wrap(body, width, lead, indent)]
