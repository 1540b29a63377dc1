"""The lessons listed by course, for `sockrepl lesson` and the REPL's `lesson` alike.

Every text from a lesson file is made visible.
"""

from collections.abc import Sequence

from sockrepl.lessons import LessonError, courses, load
from sockrepl.textsafe import visible

NAME_WIDTH = 16  # the longest built-in name, datagram-limits, and a blank


def listing(folders: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The lessons as (line, style): each course's title, then its lessons numbered in its order."""
    lines: list[tuple[str, str]] = []
    taken: set[str] = set()
    for course in courses(folders):
        lines.append((visible(course.title), "class:heading"))
        for entry in course.entries:
            try:
                summary = entry.summary or load(str(entry.path)).summary
                style = ""
            except LessonError as error:
                summary, style = f"cannot be read: {error}", "class:error"
            if entry.name in taken:
                summary, style = f"{entry.name} is taken by an earlier course: open it by its path, {entry.path}", \
                    "class:warn"
            taken.add(entry.name)
            lines.append((f"  {entry.number:>2}  {visible(entry.name).ljust(NAME_WIDTH)} {visible(summary)}", style))
        lines += [(f"   ! {visible(problem)}", "class:warn") for problem in course.problems]
    return lines
