"""Lesson files: Markdown narration plus fenced `sockrepl` steps with expected results.

Parsing and matching are pure; `check_lesson` replays a lesson in a fresh
session and compares every expectation with what the kernel did. The format
is documented in lessons/README.md.
"""

import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sockrepl.course import Course, read_course
from sockrepl.events import UsageError
from sockrepl.lesson_format import Exercise, Lesson, Step, parse_lesson
from sockrepl.lesson_lines import Action, Expect, LessonError, StateCheck
from sockrepl.limits import LESSON
from sockrepl.predictions import outcome_of, right, said

LESSONS_VARIABLE = "SOCKREPL_LESSONS"
BUILT_IN_COURSE = "UNIX domain sockets"
# What each typed placeholder stands for: an optional leading minus (only {n}), then the
# longest run of these characters. {*} stands for any text (see placeholder_match).
PLACEHOLDERS = {
    "pid": ("", "0123456789"),
    "uid": ("", "0123456789"),
    "gid": ("", "0123456789"),
    "inode": ("", "0123456789"),
    "n": ("-", "0123456789"),
    "hex": ("", "0123456789abcdef"),
}
ANYTHING = "*"
_PLACEHOLDER = re.compile(r"\{(" + "|".join([*PLACEHOLDERS, r"\*"]) + r")\}")
MAX_LESSON_BYTES = 1 << 20


# ---- finding lessons ---------------------------------------------------------


def lesson_folder() -> Traversable:
    """The lessons that ship with sockrepl: the data package `sockrepl.lesson_files`.

    In the source tree that is the top-level lessons/ folder (sockrepl/lesson_files
    links to it); installed, a folder in the package. Not `sockrepl.lessons`: that
    name is this module, and an installed copy would look for its files in vain.
    """
    try:
        return resources.files("sockrepl.lesson_files")
    except ModuleNotFoundError:
        raise LessonError("", 0, "the lessons that come with sockrepl are missing "
                                 "(a broken install? reinstall sockrepl)") from None


def instructor_folders(given: Sequence[str] = ()) -> list[Path]:
    """Instructors' lesson folders: `--dir` ones, then those of $SOCKREPL_LESSONS (DIR1:DIR2), each once."""
    named = [*given, *os.environ.get(LESSONS_VARIABLE, "").split(":")]
    return [Path(folder) for folder in dict.fromkeys(f for f in named if f)]


def courses(folders: Sequence[str] = ()) -> list[Course]:
    """The built-in course, then one per instructor's folder, each in its own manifest's order."""
    built_in = read_course(lesson_folder(), BUILT_IN_COURSE)
    return [built_in, *(read_course(folder, str(folder)) for folder in instructor_folders(folders))]


def lesson_files(folders: Sequence[str] = ()) -> dict[str, Path]:
    """Every lesson by name, course after course; a name already taken keeps its first lesson."""
    found: dict[str, Path] = {}
    for course in courses(folders):
        for entry in course.entries:
            found.setdefault(entry.name, entry.path)
    return found


def load(name_or_path: str, folders: Sequence[str] = ()) -> Lesson:
    """A lesson by name (built in, or in an instructor's folder), or any lesson file by path."""
    shipped_problem: LessonError | None = None
    try:
        files = lesson_files(folders)
    except LessonError as missing:
        files, shipped_problem = {}, missing
    if name_or_path in files:
        path = files[name_or_path]
    else:
        path = Path(name_or_path)
        if not (path.suffix == ".md" or "/" in name_or_path):
            if shipped_problem:
                raise shipped_problem
            raise LessonError(name_or_path, 0, f"no lesson named {name_or_path!r} (known: {', '.join(files)})")
    text = read_lesson_text(path)
    return parse_lesson(text, str(path))


def read_lesson_text(path: Path) -> str:
    """A lesson file's text: a regular file of at most MAX_LESSON_BYTES, in UTF-8.

    A FIFO would block forever and /dev/zero grows without bound: what is not a
    regular file is refused before it is read, and it is opened non-blocking so
    that even swapping the file in between cannot make the open or read wait.
    """
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise LessonError(shown, 0, f"cannot read the lesson: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LessonError(shown, 0, f"a lesson is a regular file, and this is {_file_kind(info.st_mode)}")
        chunks, size = [], 0
        while size <= MAX_LESSON_BYTES:
            chunk = os.read(fd, MAX_LESSON_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise LessonError(shown, 0, f"cannot read the lesson: {error.strerror or error}") from None
    finally:
        os.close(fd)
    if size > MAX_LESSON_BYTES:
        raise LessonError(shown, 0, f"a lesson is at most {MAX_LESSON_BYTES // 1024} KiB, and this file is larger")
    data = b"".join(chunks)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # the byte order mark Windows editors write
    except UnicodeDecodeError as error:
        raise LessonError(shown, 0, f"a lesson is UTF-8 text; byte {data[error.start]:#04x} at offset "
                                    f"{error.start} is not") from None


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


# ---- matching ----------------------------------------------------------------


def placeholder_match(pattern: str, line: str) -> bool:
    """Whether `line` is `pattern` with each placeholder standing for some text, in linear time.

    No regular expression, so nothing can backtrack: the pattern is cut at its
    placeholders and read left to right. Literal text must appear as written;
    {pid} {uid} {gid} {inode} take the longest run of digits there, {n} an
    optional minus and the longest run of digits, {hex} the longest run of
    lowercase hex digits (each at least one character); {*} takes any text up to
    the first place where what follows it appears — or, after the last {*},
    whatever leaves the pattern's tail at the very end of the line.
    """
    parts = _PLACEHOLDER.split(pattern)  # literal, name, literal, name, ..., literal
    pos, skipping = 0, False
    for index, part in enumerate(parts):
        if index % 2 == 0:
            if not part:
                continue
            if skipping and index == len(parts) - 1:
                return line.endswith(part) and len(line) - len(part) >= pos
            found = line.find(part, pos) if skipping else (pos if line.startswith(part, pos) else -1)
            if found < 0:
                return False
            pos, skipping = found + len(part), False
        elif part == ANYTHING:
            skipping = True
        else:
            sign, chars = PLACEHOLDERS[part]
            if skipping:
                pos = next((i for i in range(pos, len(line)) if line[i] in chars or line[i] in sign), len(line))
                skipping = False
            start = pos + 1 if sign and line.startswith(sign, pos) else pos
            end = start
            while end < len(line) and line[end] in chars:
                end += 1
            if end == start:
                return False
            pos = end
    return skipping or pos == len(line)


def expect_matches(expect: Expect, line: str) -> bool:
    """`| text` lines compare with runs of blanks collapsed, so table padding cannot break a lesson."""
    if expect.kind == "unfinished":
        return line.endswith("<unfinished ...>")
    if expect.kind == "result":
        result = line.rsplit(" = ", 1)[-1] if " = " in line else None
        return result is not None and (placeholder_match(expect.text, result)
                                       or placeholder_match(expect.text + " {*}", result))
    if not expect.text.startswith("["):
        return placeholder_match(_squeeze(expect.text), _squeeze(line))
    return placeholder_match(expect.text, line)


def _squeeze(text: str) -> str:
    return re.sub(r"\s{2,}", " ", text.strip())


def output_mismatch(expects: tuple[Expect, ...], lines: list[str]) -> tuple[int, str] | None:
    """None when the output lines (explanations excluded) match the expectations one for one."""
    if not expects:
        return None
    shown = [line for line in lines if not line.startswith("    ↳")]
    for index, expect in enumerate(expects):
        got = shown[index] if index < len(shown) else "(nothing more)"
        if index >= len(shown) or not expect_matches(expect, got):
            return expect.line, f"expected {_describe(expect)}\n  got: {got}"
    if len(shown) > len(expects):
        return expects[-1].line, f"unexpected extra output after this line: {shown[len(expects)]}"
    return None


def _describe(expect: Expect) -> str:
    return {"result": f"= {expect.text}", "unfinished": "<unfinished ...>"}.get(expect.kind, expect.text)


def state_mismatch(check: StateCheck, snapshot) -> tuple[int, str] | None:
    """None when the kernel snapshot agrees with every key=value of the check."""
    actual = observed(check.subject, snapshot)
    subject = check.text[1:].split(":", 1)[0].strip()
    for key, want in check.wants:
        got = actual.get(key, "none")
        if got != want:
            return check.line, f"expected {subject}: {key}={want}\n  the kernel says: {key}={got}"
    return None


def _yes(value) -> str:
    return "yes" if value else "no"


def _text(value) -> str:
    return "none" if value is None else str(value)


def observed(subject: tuple, snapshot) -> dict[str, str]:
    """The values a state check can name, as text, read off the snapshot."""
    kind = subject[0]
    if kind == "file":
        file = next((f for f in snapshot.files if f.path == subject[1]), None)
        if file is None or file.kind == "missing":
            return {"exists": "no", "bound": "no", "kind": "none"}
        owner = f"{file.owner.process}:{file.owner.fd}" if file.owner else "none"
        return {"exists": "yes", "bound": _yes(file.bound), "owner": owner, "kind": file.kind}
    proc = snapshot.process(subject[1])
    if kind == "process":
        if proc is None:
            return {"alive": "no", "blocked": "no", "stopped": "no", "fds": "none"}
        fds = ",".join(str(f.fd) for f in proc.fds) or "none"
        return {"alive": _yes(proc.alive), "blocked": proc.blocked.call if proc.blocked else "no",
                "stopped": _yes(proc.stopped), "fds": fds}
    view = snapshot.find(subject[1], int(subject[2])) if proc else None
    if view is None:
        return {"exists": "no"}
    owner = f"{view.peer_owner.process}:{view.peer_owner.fd}" if view.peer_owner else "none"
    accepted = "none" if view.accepted is None else _yes(view.accepted)
    return {"exists": "yes", "type": view.type, "role": view.role, "state": view.state, "local": _text(view.local),
            "peer": _text(view.peer), "peer_owner": owner, "pending": _text(view.pending),
            "backlog": _text(view.backlog), "unread": _text(view.unread), "shutdown": _text(view.shutdown),
            "accepted": accepted}


@dataclass(frozen=True)
class GoalPart:
    """One part of an exercise's goal, and whether it holds now."""

    text: str  # as the author wrote it
    holds: bool
    kernel_says: str = ""  # what differs, when it does not hold
    process: str | None = None  # the process it is about, if any


def goal_parts(exercise: Exercise, snapshot, lines: list[str]) -> list[GoalPart]:
    """Each state check against the snapshot; each `seen:` against the output lines since the exercise began."""
    parts: list[GoalPart] = []
    for check in exercise.checks:
        mismatch = state_mismatch(check, snapshot)
        about = check.subject[1] if check.subject[0] != "file" else None
        parts.append(GoalPart(check.text[1:].strip(), mismatch is None,
                              mismatch[1].split("the kernel says: ")[-1] if mismatch else "", about))
    shown = [line for line in lines if not line.startswith("    ↳")]
    for expect in exercise.seen:
        seen = any(expect_matches(expect, line) for line in shown)
        parts.append(GoalPart(f"seen: {_describe(expect)}", seen, "" if seen else "no output line like it yet"))
    return parts


# ---- checking against the kernel -------------------------------------------


@dataclass
class CheckResult:
    lesson: Lesson
    steps_passed: int = 0
    seconds: float = 0.0
    failure: str | None = None
    failed_step: int | None = None
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None


def run_action(session, action: Action) -> tuple[list, list[str]]:
    """Run one lesson command in a session: its events and their plain lines."""
    events = session.execute(action.command)
    return events, plain_lines(events)


def plain_lines(events: list) -> list[str]:
    """Events as the plain lines expectations are matched against."""
    from sockrepl.render import event_lines, plain

    return [plain([line]) for event in events for line in event_lines(event, 200)]


def action_mismatch(session, action: Action, events, lines: list[str], path: str) -> str | None:
    """What differs between an action's expectations and what happened; None if all agree."""
    problem = next((e for e in events if isinstance(e, UsageError)), None)
    if problem:
        return f"{path}:{action.line}: {action.source}\n  sockrepl refused it: {problem.message}"
    mismatch = output_mismatch(action.expects, lines)
    if mismatch is None and action.checks:
        snapshot = session.snapshot()
        mismatch = next((m for m in (state_mismatch(c, snapshot) for c in action.checks) if m), None)
    return f"{path}:{mismatch[0]}: {mismatch[1]}" if mismatch else None


def check_lesson(lesson: Lesson) -> CheckResult:
    """Replay every step in a fresh session; stop at the first difference."""
    from sockrepl.session import Session

    result = CheckResult(lesson)
    started = time.monotonic()
    session = Session(limits=LESSON, private_network=True)
    try:
        for number, step in enumerate(lesson.steps, 1):
            mismatch = _check_step(session, step, lesson.path, result.transcript)
            if mismatch:
                result.failure, result.failed_step = mismatch, number
                return result
            result.steps_passed = number
    finally:
        session.close()
        result.seconds = time.monotonic() - started
    return result


def _check_step(session, step: Step, path: str, transcript: list[str]) -> str | None:
    """Run a step's actions (an exercise's solution); an exercise's goal must hold after, and not before."""
    if step.exercise and all(part.holds for part in goal_parts(step.exercise, session.snapshot(), [])):
        return f"{path}:{step.line}: this exercise is already solved before its solution runs (its goal holds)"
    lines_since: list[str] = []
    for action in step.actions:
        events, lines = run_action(session, action)
        transcript += [action.source, *lines]
        lines_since += lines
        mismatch = action_mismatch(session, action, events, lines, path)
        if mismatch:
            return mismatch
        if step.prediction:
            actual = outcome_of(events)
            expected = step.prediction.answer
            if actual is None or not right(expected, actual):
                return (f"{path}:{step.prediction.line}: the expected answer is wrong: {said(expected)}\n"
                        f"  the kernel: {said(actual) if actual else 'no call ran'}")
    if step.exercise:
        failing = [p for p in goal_parts(step.exercise, session.snapshot(), lines_since) if not p.holds]
        if failing:
            return f"{path}:{step.line}: the solution does not reach the goal: {failing[0].text}\n" \
                   f"  the kernel says: {failing[0].kernel_says}"
    return None
