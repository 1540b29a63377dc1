"""The interactive REPL: a prompt naming the current process, the transcript above, the panel below.

prompt_toolkit's PromptSession with the state panel as its bottom toolbar.
Lines go to the Engine thread; results that arrive on their own (a blocked
call released, a process killed from outside) are printed above the prompt
without waiting for a key, and the panel is redrawn from the new snapshot.
"""

import asyncio
import concurrent.futures
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import ANSI, FormattedText, to_formatted_text
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.shortcuts import CompleteStyle

from sockrepl.commands import FRONT_END_COMMANDS, REGISTRY, Command
from sockrepl.complete import Context
from sockrepl.engine import Engine, LineRun
from sockrepl.history import AtomicFileHistory, history_path
from sockrepl.lifecycle import ENDING_SIGNALS, crash_report
from sockrepl.panel import PanelMode
from sockrepl.parser import ParseError, parse
from sockrepl.prompt_parts import (
    PANEL_MODES,
    STYLE,
    LineLexer,
    SessionCompleter,
    completion_context,
    footer_keys,
    split_paste,
    toolbar,
    typed_line,
)
from sockrepl.session import refusal
from sockrepl.state import Snapshot
from sockrepl.textsafe import visible
from sockrepl.theme import process_style
from sockrepl.transcript import Transcript

if TYPE_CHECKING:
    from sockrepl.lesson_driver import LessonDriver


class Repl(Transcript):
    def __init__(self, engine: Engine, started: LineRun, input=None, output=None, history_file: str | None = None,
                 lesson: "LessonDriver | None" = None):
        """`started`: the future of the first line (spawning p1), already under way."""
        self.engine = engine
        self.engine.listen(self._from_engine)
        self.lesson = lesson  # else made by the first lesson command (`_driver`): a lesson's modules load then
        self.started = started
        self.loop: asyncio.AbstractEventLoop | None = None
        self.snapshot: Snapshot | None = None
        self.stopping = False
        self.stopped_by: int | None = None  # the signal that ended the REPL: its exit status is 128 + it
        self.interrupted = False  # Ctrl-C while a line or a lesson step runs (not at the prompt)
        self.tasks: set[asyncio.Future[Any]] = set()  # started from a key: kept until done, so none is lost
        self.panel_mode: PanelMode = "compact"
        self.pasted: list[str] = []  # whole lines of a paste, still to run
        self.paste_rest = ""  # what followed the paste's last newline: the next prompt's text
        self.prompt: PromptSession[str] = PromptSession(
            message=self._message,
            bottom_toolbar=self._toolbar,
            completer=SessionCompleter(self.context),
            lexer=LineLexer(),
            history=AtomicFileHistory(history_file or history_path()),
            auto_suggest=AutoSuggestFromHistory(),
            complete_style=CompleteStyle.MULTI_COLUMN,
            complete_while_typing=False,
            reserve_space_for_menu=6,
            enable_suspend=True,  # Ctrl-Z stops sockrepl as it stops any program (the workers have their own sessions)
            key_bindings=self._keys(),
            style=STYLE,
            input=input,
            output=output,
        )

    # ---- what is drawn ---------------------------------------------------

    @property
    def in_lesson(self) -> bool:
        return self.lesson is not None and self.lesson.active

    @property
    def presenting(self) -> bool:
        return self.lesson is not None and self.lesson.present

    def _driver(self) -> "LessonDriver":
        """The lesson driver, made when first needed: a session without lessons never loads their modules."""
        if self.lesson is None:
            from sockrepl.lesson_driver import LessonDriver

            self.lesson = LessonDriver()
        return self.lesson

    async def _student_line(self, line: str) -> bool:
        """True if the lesson took the line (a prediction's answer, an exercise's try)."""
        return self.lesson is not None and await self.lesson.student_line(self, line)

    async def _enter(self) -> bool:
        """True if the lesson took the empty line (its next step)."""
        return self.lesson is not None and await self.lesson.enter(self)

    def current(self) -> str | None:
        """The current process as the last snapshot says (the session itself lives on the engine thread)."""
        return self.snapshot.current if self.snapshot else None

    def _message(self):
        current = self.current() or "sockrepl"
        return FormattedText([(process_style(current), current), ("", "> ")])

    def _toolbar(self):
        size = self.prompt.app.output.get_size()
        keys = footer_keys(self.presenting, self.in_lesson, self.lesson.status() if self.lesson else "", self.snapshot)
        return toolbar(self.snapshot, self.panel_mode, keys, size.columns, size.rows)

    def _toolbar_height(self) -> int:
        return 1 + sum(text.count("\n") for _, text, *_ in self._toolbar())

    def context(self) -> Context:
        return completion_context(self.snapshot, lambda: self._driver().names())

    def echo(self, source: str) -> None:
        """A lesson's command, shown as if it had been typed at the prompt."""
        name, _sep, rest = visible(source).partition(">")
        self.print_lines([typed_line(name.strip() or self.current() or "sockrepl", rest.strip())])

    def show_markdown(self, text: str, title: str | None = None) -> None:
        from sockrepl.richtext import markdown_ansi

        width = self.prompt.app.output.get_size().columns
        self._print(to_formatted_text(ANSI(markdown_ansi(text, width, title, self.presenting))))

    async def refresh(self):
        """A fresh snapshot from the engine, shown in the panel."""
        snapshot = await asyncio.wrap_future(self.engine.submit(lambda s: s.snapshot()))
        self._show_snapshot(snapshot)
        return snapshot

    # ---- input -----------------------------------------------------------

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the prompt (a key binding cannot await), holding the task until it ends."""
        self._keep(asyncio.ensure_future(work))

    def _keys(self) -> KeyBindings:
        keys = KeyBindings()

        @keys.add("c-c")
        def _(event):
            """Interrupt the current process's blocked call; at an idle prompt, clear the line."""
            blocked = self._current_blocked()
            if blocked:
                self._background(self.execute(f"interrupt {blocked}", echo=False))
            else:
                event.app.current_buffer.reset()

        @keys.add("f1")
        def _(event):
            self._background(self.execute("help", echo=False))

        @keys.add("f2")
        def _(event):
            """Cycle the panel: compact, full, off."""
            self.panel_mode = PANEL_MODES[(PANEL_MODES.index(self.panel_mode) + 1) % len(PANEL_MODES)]
            event.app.invalidate()

        between_steps = Condition(lambda: self.in_lesson and not self.prompt.app.current_buffer.text)
        presenting = Condition(lambda: self.presenting and not self.prompt.app.current_buffer.text)

        # Keys that move a lesson never start a command: no letter, no Space.
        @keys.add("pagedown", filter=between_steps)
        @keys.add("right", filter=presenting)
        def _(event):
            event.app.exit(result="next")

        @keys.add("pageup", filter=between_steps)
        @keys.add("left", filter=presenting)
        def _(event):
            event.app.exit(result="back")

        @keys.add(Keys.BracketedPaste)
        def _(event):
            """Pasted lines run one by one, as a shell does; an unfinished last line stays to edit."""
            first, lines, rest = split_paste(event.data)
            event.current_buffer.insert_text(first)
            if rest is not None:  # a newline in it: the first line runs now, the others after it
                self.pasted, self.paste_rest = lines, rest
                event.current_buffer.validate_and_handle()

        return keys

    def _panel(self, command: Command) -> None:
        """`panel`: how much room the panel takes on this screen."""
        mode = command.args.get("mode")
        if mode is None:
            self.say(f"panel: {self.panel_mode} (panel compact|full|off, or F2 to cycle)")
        elif mode in PANEL_MODES:
            self.panel_mode = mode
        else:
            self.say(f"error: panel: {visible(mode)!r} is not a panel mode", "class:error")
            self.say("usage: panel compact|full|off", "class:usage")

    def _clear(self, command: Command) -> None:
        self.clear_screen()

    def _current_blocked(self) -> str | None:
        current = self.current()
        snap = self.snapshot
        proc = snap.process(current) if snap and current else None
        return current if proc and proc.blocked else None

    async def execute(self, line: str, echo: bool = False) -> None:
        """Run one line on the engine thread; print what it did; refresh the panel."""
        if echo:
            self.say(f"{self.current() or 'sockrepl'}> {line}", "class:dim")
        run = self.engine.run_line(line)
        self.print_events(await asyncio.wrap_future(run.events), pageable=True)
        self._show_snapshot(await asyncio.wrap_future(run.snapshot))

    async def dispatch(self, line: str) -> bool:
        """Parse the line, then carry it out as the registry says its command runs; False to leave."""
        try:
            command = parse(line)
        except ParseError as error:  # a student's line in a lesson step may be no command: an answer, a try
            if error.command in FRONT_END_COMMANDS or not await self._student_line(line):
                self.print_events([refusal(error)], pageable=True)
            return True
        runs = REGISTRY[command.name].runs if command else None
        if runs == "leave":
            return False
        if command and runs == "screen":
            SCREEN[command.name](self, command)
        elif command and runs == "lesson":
            await self._driver().run(self, command)
        elif not await (self._student_line(line) if line.strip() else self._enter()):
            await self.execute(line)  # the session's: a call, or one of its own commands (Enter: a fresh panel)
        return True

    def _from_engine(self, events, snapshot: concurrent.futures.Future) -> None:
        """Called on the engine thread: hand over to the event loop's thread, events first."""
        self._on_loop(self._print_unasked, events)
        snapshot.add_done_callback(lambda done: self._on_loop(self._show_snapshot, done.result()))

    def _print_unasked(self, events) -> None:
        try:
            self.print_events(events)
        except Exception as error:
            self.print_events([crash_report(error, "(a result that came by itself)")])

    def _on_loop(self, function: Callable[..., None], *args: Any) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(function, *args)

    def _show_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        if self.prompt.app.is_running:
            self.prompt.app.invalidate()

    def _stop(self, signum: int) -> None:
        """SIGTERM, SIGHUP, SIGQUIT (Ctrl-\\ while a line runs), any signal that ends a process: leave as on
        Ctrl-D, with the full cleanup, cutting short a wait or a lesson step."""
        self.stopping = True
        if self.stopped_by is None:  # a closing terminal sends SIGHUP then SIGTERM: the first one says why
            self.stopped_by = signum
        self.engine.interrupt_wait()
        self._leave_if_stopping()

    def _interrupt(self) -> None:
        """SIGINT while a line runs: end a `wait` and stop a lesson step (at the prompt, Ctrl-C is a key)."""
        self.interrupted = True
        self.engine.interrupt_wait()

    def _line_starts(self) -> None:
        """Each prompt_toolkit prompt takes SIGINT over and, when done, leaves it with no handler at all:
        take it back for the line about to run."""
        self.interrupted = False
        self.engine.arm_wait()
        if self.loop is not None:
            self.loop.add_signal_handler(signal.SIGINT, self._interrupt)

    def _leave_if_stopping(self) -> None:
        """Also run as each prompt starts: a signal between two prompts must not leave one waiting."""
        if self.stopping and self.prompt.app.is_running and not self.prompt.app.is_done:
            self.prompt.app.exit(exception=EOFError())

    async def _handle(self, line: str) -> bool:
        """Run a typed or pasted line (False: it leaves); a bug of ours in it is one line, and the REPL goes on."""
        self._line_starts()
        try:
            return await self.dispatch(line)
        except Exception as error:
            self.print_events([crash_report(error, line)])
            return True

    def _show_typed(self, line: str) -> None:
        """A pasted line after the first, shown at a prompt as if typed, then kept in the history."""
        self.print_lines([typed_line(visible(self.current() or "sockrepl"), visible(line))])
        if line.strip():
            self.prompt.history.append_string(line)

    def _signalled(self, signum: int, _frame: object) -> None:
        """The handler of the signals that end sockrepl: `_stop`, on the event loop."""
        self._on_loop(self._stop, signum)

    async def run(self) -> int:
        self.loop = asyncio.get_running_loop()
        self._line_starts()  # SIGINT through the loop, which also sets the wakeup fd that wakes it for the others
        # A plain handler each, not loop.add_signal_handler: that costs 0.2 ms a signal (44 of them, at start-up).
        # SIGINT is a key at the prompt and `_interrupt` while a line runs; the handlers before are put back after.
        ending = [signum for signum in ENDING_SIGNALS if signum != signal.SIGINT]
        before = {signum: signal.signal(signum, self._signalled) for signum in ending}
        try:
            events = await asyncio.wrap_future(self.started.events)
            self.snapshot = await asyncio.wrap_future(self.started.snapshot)
            if not self.in_lesson:  # a lesson starts a fresh session, and names its directory
                self.say(f"sockrepl: scratch directory {visible(self.snapshot.scratch)} "
                         "(relative paths live here)")
            self.print_events(events)
            self.say("help: commands · man CALL: a system call · lesson: guided lessons · Ctrl-D: quit",
                     "class:hint")
            if self.in_lesson:
                await self._driver().start(self)
            while not self.stopping:
                unfinished, self.paste_rest = self.paste_rest, ""
                try:
                    line = await self.prompt.prompt_async(default=unfinished, pre_run=self._leave_if_stopping)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if not await self._handle(line):
                    break
                while self.pasted and not self.stopping:
                    line = self.pasted.pop(0)
                    self._show_typed(line)
                    if not await self._handle(line):
                        self.stopping = True
        finally:
            events = self.engine.close()
            for signum, handler in before.items():
                if handler is not None:  # None: a handler not set from Python, which cannot be put back
                    signal.signal(signum, handler)
            with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): the cleanup is what matters
                self.print_events(events)
        return 0 if self.stopped_by is None else 128 + self.stopped_by


SCREEN: dict[str, Callable[[Repl, Command], None]] = {"panel": Repl._panel, "clear": Repl._clear}
"""The screen commands' handlers (tests/test_dispatch.py: one for each, and no other)."""


def main(engine: Engine, started: LineRun, lesson: "LessonDriver | None" = None) -> int:
    repl = Repl(engine, started, lesson=lesson)
    try:
        return asyncio.run(repl.run())
    finally:
        engine.close()
