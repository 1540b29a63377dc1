"""`sockrepl run FILE` / `sockrepl run -`: the same commands without a terminal.

Prints the transcript as it goes, flushed after each event; `exit` ends the script.
Exit status, one meaning each: 0 every line ran (a syscall error is a result, not a
failure); 1 a well-formed command was refused (its process blocked or stopped, no
such process...); 2 a line was malformed (or FILE unreadable); 128+N a signal N
stopped the run (lifecycle.py's statuses, such as 74 for lost output, come on top).
Neither prompt_toolkit nor rich here: colours, when asked for, are theme.ansi's escapes.
"""

import codecs
import contextlib
import errno
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from sockrepl.arguments import EXPORT_FORMATS
from sockrepl.commands import ALIASES, FIRST_PROCESS, REGISTRY, Command
from sockrepl.events import UsageError
from sockrepl.export import carried_out
from sockrepl.lifecycle import EXIT_FAILED, EXIT_READER_GONE, EXIT_USAGE, OutputLost, Stop, StopOnSignal, crash_report
from sockrepl.parser import ParseError, parse
from sockrepl.render import event_lines, plain
from sockrepl.session import EVERYTHING, RECALLS, Recording, Session, recording_for, refusal
from sockrepl.textsafe import visible

REFUSED, MALFORMED = EXIT_FAILED, EXIT_USAGE  # lifecycle.py gives each status its one meaning
RECALL_WORDS = [word.encode() for word in (*RECALLS, *(a for a, name in ALIASES.items() if name in RECALLS))]
MAX_LINE = 1 << 20  # bytes: no command is longer; /dev/zero or a binary file has no end of line to wait for
TOO_LONG = f"a line is at most {MAX_LINE // 1024} KiB, and this one is longer: the rest of the script is not run"


def _lines(source: BinaryIO) -> Iterator[bytes | None]:
    """The script's lines, each read with a bound so that no file makes sockrepl grow without end;
    None for a line past MAX_LINE, and nothing after it."""
    raw = source.readline(MAX_LINE + 1).removeprefix(codecs.BOM_UTF8)  # as Notepad saves: not the first command's
    while raw:
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            yield None
            return
        yield raw
        raw = source.readline(MAX_LINE + 1)


def _recording(source: BinaryIO, export: Command | None) -> Recording:
    """What the script can ask for later (session.RECALLS: timeline, why, export), read ahead of the run:
    the session reads the kernel at each command only for that. A pipe cannot be read ahead: everything."""
    if not source.seekable():
        return EVERYTHING
    start = source.tell()
    try:  # the names only: a script of a million `why` lines kept a million Commands (500 bytes each)
        names = {command.name for raw in _lines(source) if raw and any(word in raw for word in RECALL_WORDS)
                 if (command := _command_in(raw)) is not None}
    finally:
        source.seek(start)
    return recording_for(names | ({export.name} if export else set()))


def _command_in(raw: bytes) -> Command | None:
    try:
        return parse(raw.decode("utf-8", "surrogateescape").rstrip("\r\n"))
    except ParseError:
        return None


def run_script(source: BinaryIO, out: TextIO, color: bool = False, width: int = 100,
               export: Command | None = None) -> int:
    """Run every line of `source`, then `export` if asked (--export); return the exit status."""
    if color:
        from sockrepl.theme import ansi as draw
    else:
        draw = plain

    def emit(events, line_number=None):
        for event in carried_out(events):
            lines = event_lines(event, width)
            if isinstance(event, UsageError) and line_number is not None:
                lines[0] = [("class:error", f"line {line_number}: ")] + lines[0]
            out.write(draw(lines) + "\n")
            out.flush()

    stop = StopOnSignal()
    session = Session()
    status = 0
    try:
        stop.arm()
        session.recording = _recording(source, export)  # in the try: a read that fails leaves nothing behind
        print(f"sockrepl: scratch directory {visible(str(session.scratch))} (relative paths live here)",
              file=sys.stderr)
        emit(session.run_line(f"spawn {FIRST_PROCESS}"))  # as the REPL starts: a script copied from it runs
        for number, raw in enumerate(_lines(source), 1):
            if raw is None:
                emit(session.poll_unasked())
                emit([UsageError(TOO_LONG)], number)
                status = max(status, MALFORMED)
                break
            line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
            try:
                command = parse(line)
                if command is not None and REGISTRY[command.name].runs == "leave":
                    break
                emit(session.poll_unasked())
                events = session.execute(command) if command is not None else []
                if any(isinstance(e, UsageError) for e in events):
                    status = max(status, REFUSED)
                emit(events, number)
            except ParseError as error:
                emit(session.poll_unasked())
                emit([refusal(error)], number)
                status = max(status, MALFORMED)
            except (Stop, OutputLost):
                raise
            except Exception as error:  # a bug of ours in one command: report it, run the next line
                emit([crash_report(error, line)], number)
        if export is not None:
            events = carried_out(session.execute(export))
            if any(isinstance(e, UsageError) for e in events):
                status = max(status, REFUSED)
            emit(events)
        stop.raise_lost()
    except Stop as stopped:
        status = 128 + stopped.signum
    finally:
        stop.quiet = True
        events = session.close()
        stop.restore()
    with contextlib.suppress(OutputLost):
        emit(events)
    return status


def export_command(option: str, force: bool) -> Command | str:
    """`--export lesson:out.md` as the command `export lesson out.md`; a problem as its message."""
    fmt, _, path = option.partition(":")
    if fmt not in EXPORT_FORMATS:
        return f"--export: unknown format {visible(fmt)!r} (one of {', '.join(EXPORT_FORMATS)})"
    return Command("export", {"format": fmt, "path": path or None, "force": force}, text=f"export {fmt}")


def run_path(path: str, color: bool, export: Command | None = None) -> int:
    if path == "-":
        return _guarded(sys.stdin.buffer, color, export)
    try:
        with open(path, "rb") as handle:
            return _guarded(handle, color, export)
    except OSError as error:
        print(f"sockrepl: cannot read {visible(path)}: {error.strerror}", file=sys.stderr)
        return 2


def _guarded(source: BinaryIO, color: bool, export: Command | None) -> int:
    """A reader that went away (`| head -1`) ends the run quietly; other output failures go up to cli."""
    try:
        return run_script(source, sys.stdout, color, export=export)
    except OutputLost as lost:
        if lost.errno == errno.EPIPE:
            return EXIT_READER_GONE
        raise
