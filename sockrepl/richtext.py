"""Lesson narration drawn with rich: Markdown to ANSI text. The one module that imports rich."""

import io


def markdown_ansi(text: str, width: int, title: str | None = None, present: bool = False) -> str:
    """Markdown as terminal text; `present` frames it large for a projector."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.panel import Panel

    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system="truecolor",
                      highlight=False)
    body = Markdown(text, code_theme="ansi_dark")
    if present:
        console.print(Panel(body, title=title, title_align="left", padding=(1, 3), border_style="bright_blue"))
    elif title:
        console.print(Panel(body, title=title, title_align="left", border_style="blue"))
    else:
        console.print(body)
    return out.getvalue().rstrip("\n")
