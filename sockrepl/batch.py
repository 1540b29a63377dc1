"""`sockrepl run FILE` / `sockrepl run -`: the same commands without a terminal.

Prints the transcript one flushed line per event. Exit status, one meaning each:
0 every line ran (a syscall error is a result, not a failure); 1 a well-formed
command was refused (its process blocked or stopped, no such process...);
2 a line was malformed (or FILE unreadable); 128+N a signal N stopped the run.
Neither prompt_toolkit nor rich here: colours, when asked for, are theme.ansi's escapes.
"""

import contextlib
import os
import signal
import sys
from typing import BinaryIO, TextIO

from sockrepl.commands import ParseError, parse
from sockrepl.events import UsageError
from sockrepl.render import event_lines, plain
from sockrepl.session import Session
from sockrepl.textsafe import visible


class Stop(Exception):
    """A signal asked sockrepl to leave; cleanup still runs."""

    def __init__(self, signum: int):
        self.signum = signum


class StopOnSignal:
    """SIGTERM, SIGHUP or SIGINT ends the run once; later ones (a closing terminal sends
    SIGHUP then SIGTERM) and any during cleanup are swallowed, so nothing cuts it short."""

    def __init__(self):
        self.quiet = False
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, self)

    def __call__(self, signum, frame):
        if not self.quiet:
            self.quiet = True
            raise Stop(signum)


REFUSED, MALFORMED = 1, 2


def _malformed(line: str) -> bool:
    try:
        parse(line)
    except ParseError:
        return True
    return False


def run_script(source: BinaryIO, out: TextIO, color: bool = False, width: int = 100) -> int:
    """Run every line of `source`; return the exit status."""
    if color:
        from sockrepl.theme import ansi as draw
    else:
        draw = plain

    def emit(events, line_number=None):
        for event in events:
            lines = event_lines(event, width)
            if isinstance(event, UsageError) and line_number is not None:
                lines[0] = [("class:error", f"line {line_number}: ")] + lines[0]
            out.write(draw(lines) + "\n")
            out.flush()

    stop = StopOnSignal()
    session = Session()
    print(f"sockrepl: scratch directory {visible(str(session.scratch))} (relative paths live here)", file=sys.stderr)
    status = 0
    try:
        for number, raw in enumerate(source, 1):
            line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
            emit(session.poll())
            events = session.run_line(line)
            if any(isinstance(e, UsageError) for e in events):
                status = max(status, MALFORMED if _malformed(line) else REFUSED)
            emit(events, number)
            if line.strip() in ("exit", "quit"):
                break
    except Stop as stopped:
        status = 128 + stopped.signum
    finally:
        stop.quiet = True
        events = session.close()
    with contextlib.suppress(BrokenPipeError):
        emit(events)
    return status


def run_path(path: str, color: bool) -> int:
    if path == "-":
        return _guarded(sys.stdin.buffer, color)
    try:
        with open(path, "rb") as handle:
            return _guarded(handle, color)
    except OSError as error:
        print(f"sockrepl: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2


def _guarded(source: BinaryIO, color: bool) -> int:
    """A reader that went away (`| head -1`) ends the run quietly."""
    try:
        return run_script(source, sys.stdout, color)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
