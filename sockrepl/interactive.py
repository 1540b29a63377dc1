"""Starting the interactive REPL, for `sockrepl` and `sockrepl lesson NAME` alike.

Its own module so that both entry points (cli, lessons_cli) import it and neither imports the other.
"""

import sys
from typing import TYPE_CHECKING

from sockrepl.commands import FIRST_PROCESS
from sockrepl.engine import Engine
from sockrepl.lifecycle import EXIT_USAGE, Stop, StopOnSignal

if TYPE_CHECKING:
    from sockrepl.lesson_driver import LessonDriver


def interactive(lesson: "LessonDriver | None" = None) -> int:
    """The REPL. Its first process starts while prompt_toolkit is being imported.

    Signals are recorded before the engine (and its scratch directory) exists and
    end sockrepl through the `finally` that cleans up, until the REPL's own handlers take over.
    """
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        print("sockrepl: the interactive mode needs a terminal; for scripts use: sockrepl run FILE", file=sys.stderr)
        return EXIT_USAGE
    stop = StopOnSignal()
    engine = Engine()
    try:
        stop.arm()
        started = engine.run_line("" if lesson and lesson.active else f"spawn {FIRST_PROCESS}")
        from sockrepl.repl import main as repl_main

        return repl_main(engine, started, lesson)
    except Stop as stopped:
        return 128 + stopped.signum
    finally:
        stop.quiet = True
        engine.close()
