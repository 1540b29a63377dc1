"""The parts of the REPL's terminal that prompt_toolkit draws, apart from the REPL's own state:
the style, the footer's keys, lines of fragments (and the same as ANSI text for a pager),
completion and highlighting of the line being typed.
"""

import io
import re
from collections.abc import Callable

from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import FormattedText, StyleAndTextTuples
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.renderer import print_formatted_text
from prompt_toolkit.styles import Style, default_pygments_style, default_ui_style, merge_styles

from sockrepl.complete import Context, highlight, suggest
from sockrepl.fit import cells, fit
from sockrepl.panel import PanelMode, panel_lines
from sockrepl.state import Snapshot
from sockrepl.textsafe import visible
from sockrepl.theme import STYLES, process_style

STYLE = Style.from_dict({
    **STYLES,
    "bottom-toolbar": "noreverse",
    "bottom-toolbar.text": "",
    "rule": "#5f5f5f",
    "keys": "reverse",
    "prefix": "bold",
    "string": "#87d75f",
    "number": "#ffd75f",
    "constant": "#5fd7ff",
})
# What prompt_toolkit's print_formatted_text merges on every call (1.5-10 ms a line, most of
# the wait after Enter), merged once: the merged style caches what it computes.
PRINT_STYLE = merge_styles([default_ui_style(), default_pygments_style(), STYLE])
PANEL_MODES: tuple[PanelMode, ...] = ("compact", "full", "off")  # F2 cycles them in this order


def key_line(keys: list[tuple[str, str, int]], width: int) -> list[tuple[str, str]]:
    """The footer: whole keys only, the least needed dropped first when the width runs out."""
    shown = list(keys)
    while len(shown) > 1 and sum(cells(k) + cells(t) for k, t, _ in shown) > width:
        shown.remove(max(shown, key=lambda item: item[2]))
    line = []
    for key, text, _ in shown:
        if key:
            line.append(("class:keys", key))
        line.append(("class:dim" if not key else "", text))
    return line


def ansi_text(fragments: StyleAndTextTuples, depth: ColorDepth) -> str:
    """`fragments` as a terminal would receive them (for a pager): SGR colours, no cursor moves."""
    buffer = io.StringIO()
    output = Vt100_Output(buffer, lambda: Size(rows=24, columns=80), term="xterm-256color")
    print_formatted_text(output, [*fragments, ("", "\n")], PRINT_STYLE, color_depth=depth)
    return re.sub(r"\x1b\[\?7[hl]", "", buffer.getvalue()).replace("\r\n", "\n")  # less -R shows only SGR


def join_lines(lines) -> FormattedText:
    fragments = []
    for index, line in enumerate(lines):
        if index:
            fragments.append(("", "\n"))
        fragments.extend(line)
    return FormattedText(fragments)


class SessionCompleter(Completer):
    """Completion from the registry and what the REPL knows of the session (`context()`, read each time)."""

    def __init__(self, context: Callable[[], Context]):
        self.context = context

    def get_completions(self, document, complete_event):
        for item in suggest(document.text_before_cursor, self.context()):
            yield Completion(item.text, item.start, display_meta=item.meta)


class LineLexer(Lexer):
    def lex_document(self, document):
        return lambda number: highlight(document.lines[number])


def toolbar(snapshot: Snapshot | None, mode: PanelMode, keys: list[tuple[str, str, int]], width: int,
            rows: int) -> FormattedText:
    """Below the prompt: the panel (unless off), then the footer's keys."""
    lines = []
    if mode != "off":
        lines.append([("class:rule", "─" * 2 + " state, from the kernel " + "─" * max(0, width - 26))])
        if snapshot is not None:
            height = max(4, rows - 11) if mode == "full" else max(3, rows // 2 - 3)
            lines += panel_lines(snapshot, width, height, mode)
    lines.append(key_line(keys, width))
    return join_lines([fit(line, width) for line in lines])


def footer_keys(presenting: bool, in_lesson: bool, status: str,
                snapshot: Snapshot | None) -> list[tuple[str, str, int]]:
    """(key, what it does, priority: lower stays longer) for the footer; `status`: the lesson's step.
    Ctrl-C stays while the current process is blocked: it is then the one key that helps."""
    current = snapshot.process(snapshot.current or "") if snapshot else None
    needed = current is not None and current.blocked is not None and not current.stopped
    if presenting:
        return [(" PgDn ", " next  ", 0), (" PgUp ", " back  ", 1), (" Ctrl-C ", " interrupt  ", 0 if needed else 3),
                (" Ctrl-D ", " quit  ", 2), ("", status + "  ", 0)]
    keys = [(" F1 ", " help  ", 1), (" F2 ", " panel  ", 4), (" Ctrl-C ", " interrupt  ", 0 if needed else 2),
            (" Ctrl-D ", " quit  ", 1)]
    if in_lesson:
        keys += [(" Enter ", f" next step ({status})  ", 0)]
    return [*keys, ("", f"scratch: {visible(snapshot.scratch if snapshot else '')}", 5)]


def completion_context(snapshot: Snapshot | None, lessons: Callable[[], tuple[str, ...]]) -> Context:
    """What completion offers beyond the registry: the processes, their fds, the socket files, the lessons."""
    if snapshot is None:
        return Context()
    fds = {p.name: tuple((f.fd, f"{f.type} {f.state} {f.local or ''}".strip()) for f in p.fds)
           for p in snapshot.processes}
    return Context(tuple(p.name for p in snapshot.processes), snapshot.current, fds,
                   tuple(f.path for f in snapshot.files), lessons())


def typed_line(process: str, text: str) -> list[tuple[str, str]]:
    """A line as the prompt showed it when typed: `server> bind 3 srv.sock`, coloured."""
    return [(process_style(process), process), ("", "> "), *highlight(text)]


def split_paste(data: str) -> tuple[str, list[str], str | None]:
    """A paste as (the line to finish at the prompt, the whole lines after it, what follows the last
    newline); no newline: (the text, [], None), it stays at the prompt to edit."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) == 1:
        return data, [], None
    return lines[0], lines[1:-1], lines[-1]
