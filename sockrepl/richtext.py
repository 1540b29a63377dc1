"""Lesson narration drawn with rich: Markdown to ANSI text, and the HTML and SVG exports.
The one module that imports rich.

The Markdown comes from a lesson file: its control characters are escaped before
rich sees it (rich would pass them to the terminal), links are shown as text
rather than terminal hyperlinks, and a title is never read as rich markup.
"""

import io

from sockrepl.textsafe import visible, visible_lines
from sockrepl.theme import STYLES


def markdown_ansi(text: str, width: int, title: str | None = None, present: bool = False) -> str:
    """Markdown as terminal text; `present` frames it large for a projector."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.panel import Panel

    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system="truecolor",
                      highlight=False)
    body = Markdown(visible_lines(text.expandtabs(4)), code_theme="ansi_dark", hyperlinks=False)
    title = escape(visible(title)) if title else title
    if present:
        console.print(Panel(body, title=title, title_align="left", padding=(1, 3), border_style="bright_blue"))
    elif title:
        console.print(Panel(body, title=title, title_align="left", border_style="blue"))
    else:
        console.print(body)
    return out.getvalue().rstrip("\n")


def _rich_style(style: str) -> str:
    """`class:error class:x` as a rich style: theme colours, `bg:` as rich's `on`."""
    words = []
    for part in style.split():
        if part.startswith("class:"):
            words += STYLES.get(part[6:], "").replace("bg:", "on ").split()
    return " ".join(words)


def export_document(parts, width: int, kind: str) -> str:
    """Titled sections of styled lines as a standalone HTML page or SVG image (rich escapes the text)."""
    from rich.console import Console
    from rich.terminal_theme import SVG_EXPORT_THEME
    from rich.text import Text

    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", highlight=False, markup=False, emoji=False)
    for index, (title, lines) in enumerate(parts):
        if index:
            console.print()
        console.print(Text(title, style="bold underline"))
        for line in lines:
            text = Text(no_wrap=True, overflow="crop")
            for style, chunk in line:
                text.append(chunk, _rich_style(style) or None)
            console.print(text)
    if kind == "svg":
        return console.export_svg(title="sockrepl session", theme=SVG_EXPORT_THEME)
    return console.export_html(inline_styles=True, theme=SVG_EXPORT_THEME)  # the theme's colours are for a dark page
