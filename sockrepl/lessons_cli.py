"""`sockrepl lesson`: list the lessons, check them against the kernel, or step through one.

Every text from a lesson file or the command line is printed through `visible()`.
"""

import sys

from sockrepl.lessons import LessonError, check_lesson, lesson_files, load
from sockrepl.textsafe import visible


def list_lessons(out=sys.stdout) -> int:
    files = lesson_files()
    width = max((len(n) for n in files), default=0)
    for name in files:
        try:
            lesson = load(name)
            out.write(f"  {name.ljust(width)}  {visible(lesson.title)} — {visible(lesson.summary)}\n")
        except LessonError as error:
            out.write(f"  {name.ljust(width)}  (cannot be read: {visible(str(error))})\n")
    out.write("\nsockrepl lesson NAME steps through one (--present for a projector); "
              "sockrepl lesson --check checks them all\n")
    return 0


def check(names: list[str], out=sys.stdout) -> int:
    """One line per lesson; for a failure, the first difference; exit 1 on any failure."""
    targets = names or list(lesson_files())
    failed = 0
    width = max((len(visible(n)) for n in targets), default=0)
    for name in targets:
        shown = visible(name).ljust(width)
        try:
            lesson = load(name)
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
    try:
        if args.check:
            return check(args.names)
        if not args.names:
            return list_lessons()
    except LessonError as error:  # the shipped lessons cannot be found
        print(f"sockrepl: {visible(str(error))}", file=sys.stderr)
        return 2
    if len(args.names) > 1:
        print("sockrepl: step through one lesson at a time", file=sys.stderr)
        return 2
    try:
        lesson = load(args.names[0])
    except LessonError as error:
        print(f"sockrepl: {visible(str(error))}", file=sys.stderr)
        return 2
    from sockrepl.cli import interactive
    from sockrepl.lesson_driver import LessonDriver

    return interactive(LessonDriver(lesson, present=args.present))
