"""Lesson narration drawn with rich: Markdown to ANSI text. The one module that imports rich.

The Markdown comes from a lesson file: its control characters are escaped before
rich sees it (rich would pass them to the terminal), links are shown as text
rather than terminal hyperlinks, and a title is never read as rich markup.
"""

import io

from sockrepl.textsafe import visible, visible_lines


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
