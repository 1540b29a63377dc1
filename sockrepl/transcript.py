"""What the REPL writes above its prompt: events, lines, messages, long output through the pager.

While the prompt is up, prompt_toolkit erases it, lets the text out and draws it again below
(run_in_terminal); those tasks are kept until they end, so that none is lost. repl.Repl is one.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.formatted_text import FormattedText, StyleAndTextTuples
from prompt_toolkit.renderer import print_formatted_text

from sockrepl.export import carried_out
from sockrepl.fit import hanging
from sockrepl.pager import page
from sockrepl.prompt_parts import PRINT_STYLE, ansi_text, join_lines
from sockrepl.render import event_lines


class Transcript:
    """Needs the `prompt` it writes above, `tasks` to keep what it starts, and `_toolbar_height`."""

    prompt: PromptSession[str]
    tasks: set[asyncio.Future[Any]]

    def _toolbar_height(self) -> int:
        """The rows drawn below the prompt (the panel, the keys): the REPL's to say."""
        raise NotImplementedError

    def width(self) -> int:
        """The terminal's columns now: lists and messages are wrapped to it."""
        return self.prompt.app.output.get_size().columns

    def print_events(self, events, pageable: bool = False) -> None:
        """`pageable`: the answer to a line the user typed, paged when taller than the screen."""
        width = self.width()
        lines = [wrapped for event in carried_out(events) for line in event_lines(event, width)
                 for wrapped in hanging(line, width)]
        if pageable:
            self.show_lines(lines)
        else:
            self.print_lines(lines)

    def print_lines(self, lines) -> None:
        if lines:
            self._print(join_lines(lines))

    def show_lines(self, lines: list) -> None:
        """Long output (help, man, a big state) through the pager, as git and pgcli do; short output printed."""
        output = self.prompt.app.output
        rows = output.get_size().rows
        if len(lines) <= rows - 2 - self._toolbar_height():  # with the line typed, the prompt and the panel
            self.print_lines(lines)
            return
        text = ansi_text(join_lines(lines), output.get_default_color_depth())

        def show() -> None:
            page(text, rows)

        if self.prompt.app.is_running:
            self._keep(run_in_terminal(show))
        else:
            show()

    def clear_screen(self) -> None:
        """Between prompts: a blank screen, the cursor at the top (the panel is drawn with the next prompt)."""
        output = self.prompt.app.output
        output.erase_screen()
        output.cursor_goto(0, 0)
        output.flush()

    def say(self, text: str, style: str = "class:info") -> None:
        """A message: a hint or a list item too wide for the screen wraps at words, with a hanging indent."""
        if "\n" in text:
            self._print(FormattedText([(style, text)]))
        else:
            self.print_lines(hanging([(style, text)], self.width()))

    def _print(self, fragments: StyleAndTextTuples) -> None:
        """Above the prompt if it is up (it is erased, then redrawn below), else at the cursor."""
        output = self.prompt.app.output

        def write() -> None:
            print_formatted_text(output, [*fragments, ("", "\n")], PRINT_STYLE,
                                 color_depth=output.get_default_color_depth())

        if self.prompt.app.is_running:
            self._keep(run_in_terminal(write))
        else:
            write()

    def _keep(self, task: Awaitable[Any]) -> None:
        future = asyncio.ensure_future(task)
        self.tasks.add(future)
        future.add_done_callback(self.tasks.discard)
