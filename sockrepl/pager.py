"""Output taller than the screen, shown one screen at a time, as git and pgcli do.

`$PAGER` if set (run by the shell, as git runs it), else `less -R`, else a built-in pager.
The text comes already escaped (textsafe.visible) and coloured with sockrepl's own SGR codes.
The REPL calls `page` with the terminal in cooked mode (prompt_toolkit's run_in_terminal);
`sockrepl run` never pages.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import termios
import tty
from collections.abc import Callable, Iterator

from sockrepl.lifecycle import ENDING_SIGNALS

# less: quit at once when the text fits (F), keep colours (R), leave the text on the screen (X),
# quit on Ctrl-C (K). Only when the user has no LESS of their own, as git does.
LESS_DEFAULT = "FRXK"
MORE = "\x1b[7m-- more: Space next page · Enter next line · q quit --\x1b[0m"


def pager_command(environ: dict[str, str]) -> str | None:
    """The shell command to page with, or None for the built-in pager."""
    chosen = environ.get("PAGER", "").strip()
    if chosen:
        return chosen
    return "less -R" if shutil.which("less") else None


def page(text: str, rows: int, environ: dict[str, str] | None = None) -> None:
    """Show `text` through the pager; back when the user quits it (q, Ctrl-C) or sockrepl is ended."""
    environ = dict(os.environ if environ is None else environ)
    command = pager_command(environ)
    if command is None:
        _builtin_until_ended(text, rows)
        return
    environ.setdefault("LESS", LESS_DEFAULT)
    try:
        pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=environ,
                                 encoding="utf-8", errors="replace")
    except OSError:
        _builtin_until_ended(text, rows)
        return
    with _ending_stops(pager.terminate):
        try:
            assert pager.stdin is not None
            pager.stdin.write(text)
            pager.stdin.close()
        except (BrokenPipeError, OSError):  # the user quit before reading it all
            pass
        pager.wait()


class _Ended(Exception):
    """A signal that ends sockrepl came while the built-in pager waited for a key."""


def _end_builtin() -> None:
    raise _Ended


def _builtin_until_ended(text: str, rows: int) -> None:
    """The built-in pager, which a signal that ends sockrepl ends too (it waits in a read of the keyboard)."""
    with contextlib.suppress(_Ended), _ending_stops(_end_builtin):
        builtin_pager(text, rows)


@contextlib.contextmanager
def _ending_stops(stop: Callable[[], None]) -> Iterator[None]:
    """While the pager runs the event loop is not: a signal that ends sockrepl ends the pager first, then
    is raised again for the handler it had before (the REPL's, which cleans up). Ctrl-C is the pager's."""
    came: list[int] = []

    def ending(signum: int, _frame: object) -> None:
        came.append(signum)
        stop()

    saved = {signum: signal.signal(signum, ending) for signum in ENDING_SIGNALS if signum != signal.SIGINT}
    try:
        yield
    finally:
        for signum, previous in saved.items():
            if previous is not None:  # None: a handler not set from Python, which cannot be put back
                signal.signal(signum, previous)
        if came:
            signal.raise_signal(came[0])


def builtin_pager(text: str, rows: int) -> None:
    """One screen, then a key at a time: Space a page, Enter a line, q / Ctrl-C / Ctrl-D to stop."""
    lines = text.split("\n")
    out = sys.stdout
    shown = max(1, rows - 1)
    out.write("\n".join(lines[:shown]) + "\n")
    out.flush()  # before raw mode, where a newline no longer returns the carriage
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        out.write("\n".join(lines[shown:]) + "\n")
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)  # Ctrl-C arrives as a key: the pager stops, nothing else is interrupted
        while shown < len(lines):
            out.write(MORE)
            out.flush()
            key = os.read(fd, 1)
            out.write("\r\x1b[K")
            if key in (b"q", b"Q", b"\x03", b"\x04", b"\x1b", b""):
                break
            step = 1 if key in (b"\r", b"\n") else max(1, rows - 1)
            out.write("\r\n".join(lines[shown:shown + step]) + "\r\n")
            shown += step
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        out.flush()
