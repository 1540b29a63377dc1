"""Entry point: `sockrepl` (interactive), `sockrepl run`, `sockrepl lesson`."""

import argparse
import errno
import os
import sys

from sockrepl import __version__
from sockrepl.lifecycle import (
    EXIT_INTERNAL,
    EXIT_IO,
    EXIT_NO_RESOURCES,
    EXIT_READER_GONE,
    EXIT_USAGE,
    OutputLost,
    StartFailed,
    Stop,
    end_every_guard,
    prepare_streams,
)
from sockrepl.textsafe import visible

DESCRIPTION = """Learn UNIX domain sockets by making the system calls yourself:
socket, bind, listen, accept, connect, send, recv... one at a time, on real
AF_UNIX file descriptors held by real processes, with the kernel's own view
of their state always in sight."""

EPILOG = """examples:
  sockrepl                      interactive session (type help)
  sockrepl run script.txt       run commands from a file, print the transcript
  printf 'spawn a\\na: socket AF_UNIX SOCK_STREAM\\n' | sockrepl run -
  sockrepl lesson               list the lessons
  sockrepl lesson phone         step through a lesson
  sockrepl lesson --check       check every lesson against the kernel
  sockrepl lesson --reset-progress  forget your progress through the lessons
  sockrepl lesson --dir DIR     an instructor's lessons too (SOCKREPL_LESSONS=DIR1:DIR2)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sockrepl", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sockrepl {__version__}")
    sub = parser.add_subparsers(dest="mode", metavar="{run,lesson}")
    run = sub.add_parser("run", help="run commands from FILE (- for stdin) and print the transcript",
                         description="Run sockrepl commands from FILE and print the transcript. Like the REPL, "
                                     "the session starts with one process, p1, current: lines copied from an "
                                     "interactive session run as they ran there.")
    run.add_argument("file", metavar="FILE", help="a file of sockrepl commands, or - for standard input")
    run.add_argument("--export", metavar="FORMAT[:PATH]",
                     help="after the script, export the session: lesson, mermaid, html, svg or markdown "
                     "(PATH relative to the current directory)")
    run.add_argument("--force", action="store_true", help="let --export overwrite an existing file")
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the transcript (auto: only on a terminal)")
    lesson = sub.add_parser("lesson", help="list, step through, or check the lessons")
    lesson.add_argument("names", nargs="*", metavar="NAME", help="a lesson name or a path to a lesson file")
    lesson.add_argument("--present", action="store_true", help="the instructor's projector view")
    lesson.add_argument("--check", action="store_true", help="run the lessons against the kernel (no names: all)")
    lesson.add_argument("--reset-progress", action="store_true",
                        help="forget your progress (kept in $XDG_STATE_HOME/sockrepl/)")
    lesson.add_argument("--dir", action="append", metavar="DIR",
                        help="also an instructor's folder of lessons (again for more; $SOCKREPL_LESSONS=DIR1:DIR2 too)")
    return parser


def wants_color(choice: str) -> bool:
    if choice == "always" or os.environ.get("FORCE_COLOR"):
        return choice != "never"
    return choice == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def main(argv: list[str] | None = None) -> int:
    closed = prepare_streams()
    try:
        status = _status(argv, closed)
        sys.stdout.flush()  # here, where a failure is still reported, not at interpreter exit
        return status
    except KeyboardInterrupt:
        return 130
    except Stop as stopped:  # it came as a mode's cleanup began, before the signals were shielded
        end_every_guard()
        return 128 + stopped.signum
    except OutputLost as lost:  # cleanup already ran in the modes' finally
        if lost.errno == errno.EPIPE:
            return EXIT_READER_GONE
        print(f"sockrepl: cannot write to standard output: {lost}", file=sys.stderr)
        return EXIT_IO
    except StartFailed as failed:
        print(f"sockrepl: {failed}", file=sys.stderr)
        return EXIT_NO_RESOURCES
    except Exception as error:  # our bug: say so in one line, cleanup already ran in the modes' finally
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):  # `ulimit -n 6`: not a bug
            import resource

            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            print(f"sockrepl: the system refuses more open files ({error.strerror}; ulimit -n is {limit}): "
                  "raise the limit; nothing was left behind", file=sys.stderr)
            return EXIT_NO_RESOURCES
        if os.environ.get("SOCKREPL_DEBUG"):
            raise
        print(f"sockrepl: internal error: {visible(f'{type(error).__name__}: {error}')}", file=sys.stderr)
        print("sockrepl: please report it; SOCKREPL_DEBUG=1 shows the traceback", file=sys.stderr)
        return EXIT_INTERNAL


def _status(argv: list[str] | None, closed: list[int]) -> int:
    """The mode's exit status; argparse's own exits (--help, --version, a bad argument) as theirs."""
    try:
        args = build_parser().parse_args(argv)
        status = _refusal(closed, args)
        return _run_mode(args) if status is None else status
    except SystemExit as leaving:  # argparse has printed its text: main flushes it where a failure is reported
        return leaving.code if isinstance(leaving.code, int) else EXIT_USAGE


def _run_mode(args) -> int:
    if args.mode == "run":
        from sockrepl.batch import export_command, run_path

        export = export_command(args.export, args.force) if args.export else None
        if isinstance(export, str):
            build_parser().error(export)
        return run_path(args.file, wants_color(args.color), export)
    if args.mode == "lesson":
        from sockrepl.lessons_cli import main as lesson_main

        return lesson_main(args)
    from sockrepl.interactive import interactive

    return interactive()


def _refusal(closed: list[int], args) -> int | None:
    """Nothing starts without its output (or, for `run -`, its input); the REPL says it needs a terminal."""
    if args.mode not in ("run", "lesson"):
        return None
    if 1 in closed:
        print("sockrepl: standard output is closed: there is nowhere to print to", file=sys.stderr)
        return EXIT_IO
    if 0 in closed and args.mode == "run" and args.file == "-":
        print("sockrepl: standard input is closed: there is no script to read (sockrepl run FILE reads a file)",
              file=sys.stderr)
        return EXIT_IO
    return None
