"""`sockrepl lesson`: list the lessons, check them against the kernel, or step through one.

Every text from a lesson file or the command line is printed through `visible()`.
"""

import shutil
import signal
import sys
from collections.abc import Sequence

from sockrepl.fit import wrap
from sockrepl.lesson_list import NAME_WIDTH, listing, rows
from sockrepl.lessons import LessonError, check_lesson, courses, lesson_files, load
from sockrepl.lifecycle import Stop, StopOnSignal
from sockrepl.progress import Progress
from sockrepl.textsafe import visible


def list_lessons(folders: Sequence[str], out=sys.stdout, width: int | None = None) -> int:
    """The lessons and the user's progress; `width`: wrap rows to it (default: the terminal's, none on a pipe)."""
    if width is None and out.isatty():
        width = shutil.get_terminal_size().columns
    for line, _ in listing(folders, width):
        out.write(line + "\n")
    progress = Progress()
    out.write("\nyour progress:\n")
    if progress.problem:
        out.writelines(line + "\n" for line in _wrapped(f"  {visible(progress.problem)}", width))
    for name in lesson_files(folders):
        mine = progress.lessons.get(name)
        for line, _ in rows(f"  {visible(name)}", mine.words() if mine else "not started", "", width,
                            NAME_WIDTH + 3):
            out.write(line + "\n")
    out.write("\n")
    for text in ("sockrepl lesson NAME steps through one (--present for a projector)",
                 "sockrepl lesson --check checks them all; --dir DIR adds an instructor's folder",
                 "sockrepl lesson --reset-progress forgets your progress"):
        out.writelines(line + "\n" for line in _wrapped(text, width))
    return 0


def _wrapped(text: str, width: int | None) -> list[str]:
    return wrap(text, width, "", "    ") if width else [text]


def check(names: list[str], folders: Sequence[str] = (), out=None) -> int:
    """One line per lesson; for a failure, the first difference; exit 1 on any failure.

    With no names, every course is checked, and a problem with a course's manifest fails too.
    SIGTERM, SIGHUP or Ctrl-C (a CI timeout) stops it with the same cleanup as a normal end.
    """
    out = out or sys.stdout
    stop = StopOnSignal()
    try:
        stop.arm()
        failed = _check(names, folders, out)
        stop.raise_lost()
        return failed
    except Stop as stopped:
        out.write(f"STOP lesson --check: {signal.Signals(stopped.signum).name}; processes and files cleaned up\n")
        return 128 + stopped.signum
    finally:
        stop.restore()


def _check(names: list[str], folders: Sequence[str], out) -> int:
    failed = 0
    if not names:
        for course in courses(folders):
            for problem in course.problems:
                failed += 1
                out.write(f"FAIL {visible(problem)}\n")
    targets = names or list(lesson_files(folders))
    width = max((len(visible(n)) for n in targets), default=0)
    for name in targets:
        shown = visible(name).ljust(width)
        try:
            lesson = load(name, folders)
        except LessonError as error:
            failed += 1
            out.write(f"FAIL {shown}  {visible(str(error))}\n")
            continue
        result = check_lesson(lesson)
        steps = len(lesson.steps)
        if result.passed:
            out.write(f"PASS {shown}  {steps} steps  {result.seconds:.2f} s\n")
        else:
            failed += 1
            out.write(f"FAIL {shown}  step {result.failed_step}/{steps}  {result.seconds:.2f} s\n")
            out.write("".join(f"     {visible(line)}\n" for line in (result.failure or "").split("\n")))
        out.flush()
    return 1 if failed else 0


def main(args) -> int:
    folders = args.dir or []
    if args.reset_progress:
        problem = Progress().reset()
        print(f"sockrepl: {visible(problem)}" if problem else "sockrepl: progress forgotten: every lesson starts "
              "from its first step", file=sys.stderr if problem else sys.stdout)
        return 1 if problem else 0
    try:
        if args.check:
            return check(args.names, folders)
        if not args.names:
            return list_lessons(folders)
    except LessonError as error:  # the shipped lessons cannot be found
        print(f"sockrepl: {visible(str(error))}", file=sys.stderr)
        return 2
    if len(args.names) > 1:
        print("sockrepl: step through one lesson at a time", file=sys.stderr)
        return 2
    try:
        lesson = load(args.names[0], folders)
    except LessonError as error:
        print(f"sockrepl: {visible(str(error))}", file=sys.stderr)
        return 2
    from sockrepl.interactive import interactive
    from sockrepl.lesson_driver import LessonDriver

    return interactive(LessonDriver(lesson, present=args.present, folders=folders))
