"""The lessons listed by course, for `sockrepl lesson` and the REPL's `lesson` alike.

Every text from a lesson file is made visible.
"""

from collections.abc import Sequence
from pathlib import Path

from sockrepl.fit import columns
from sockrepl.lessons import LessonError, courses, load
from sockrepl.textsafe import visible

NAME_WIDTH = 16  # the longest built-in name, datagram-limits, and a blank
LIST_COLUMN = 6 + NAME_WIDTH + 1  # where a lesson's summary starts: "  NN  " and its name


def rows(name: str, text: str, style: str, width: int | None, column: int) -> list[tuple[str, str]]:
    """A `name  description` row as (line, style) lines: wrapped at words under the description column
    to `width` cells (None: a pipe, one line)."""
    if width is None:
        return [(name.ljust(column - 1) + " " + text, style)]
    return [((left + right).rstrip(), style) for left, right in columns(name, text, width, column)]


def listing(folders: Sequence[str] = (), width: int | None = None) -> list[tuple[str, str]]:
    """The lessons as (line, style): each course's title, then its lessons numbered in its order;
    each row wrapped to `width` under its summary (None: not wrapped)."""
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
            lines += rows(f"  {entry.number:>2}  {visible(entry.name)}", visible(summary), style, width,
                          LIST_COLUMN)
        for problem in course.problems:
            lines += rows("   !", visible(problem), "class:warn", width, 5)
    return lines


def what_follows(lesson: Path, folders: Sequence[str] = ()) -> str:
    """Where the course goes after `lesson`: the next lesson in its manifest, or the end of the course."""
    try:
        course = next((c for c in courses(folders) if c.holds(lesson)), None)
    except LessonError:
        course = None
    if course is None:
        return "it is in no course"
    following = course.after(lesson)
    if following is None:
        return f"that was the last lesson of the course {visible(course.title)}"
    return f"next, lesson {visible(following.name)} ({following.number}/{len(course.entries)})"
