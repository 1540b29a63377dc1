"""Lesson files: Markdown narration plus fenced `sockrepl` steps with expected results.

Parsing and matching are pure; `check_lesson` replays a lesson in a fresh
session and compares every expectation with what the kernel did. The format
is documented in lessons/README.md.
"""

import os
import re
import stat
import time
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sockrepl.commands import Command, ParseError, parse
from sockrepl.events import UsageError

ORDER = ("phone", "mail", "backlog", "echo", "uppercase", "bind-caveats", "netstat")
FORBIDDEN = {"lesson", "next", "back", "reset", "goto", "exit"}
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
FENCE = re.compile(r"^(```+|~~~+)\s*sockrepl\s*$")
COMMAND = re.compile(r"^([A-Za-z_][\w.-]*)?>\s?(.*)$")


class LessonError(Exception):
    """A malformed lesson: file and line, and what is wrong."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}" if path else message)
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class Expect:
    """One expected output line of a command: `= 3`, `<unfinished ...>`, `[proc] ...` or `| text`."""

    line: int
    kind: str  # "result" | "unfinished" | "text"
    text: str


@dataclass(frozen=True)
class StateCheck:
    """`? server fd 3: state=LISTEN pending=2`: checked against the kernel snapshot."""

    line: int
    subject: tuple[str, ...]  # ("process", name) | ("fd", name, fd) | ("file", path)
    wants: tuple[tuple[str, str], ...]
    text: str


@dataclass(frozen=True)
class Action:
    line: int
    source: str
    command: Command
    expects: tuple[Expect, ...] = ()
    checks: tuple[StateCheck, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    narration: str
    actions: tuple[Action, ...]
    line: int


@dataclass(frozen=True)
class Lesson:
    name: str
    path: str
    title: str
    summary: str
    intro: str
    steps: tuple[Step, ...]
    outro: str = ""


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


def lesson_files() -> dict[str, Path]:
    """Shipped lessons by name, in teaching order."""
    try:
        entries = [Path(str(entry)) for entry in lesson_folder().iterdir()]
    except OSError as error:
        raise LessonError("", 0, f"cannot list the lessons that come with sockrepl: "
                                 f"{error.strerror or error}") from None
    found = {entry.stem: entry for entry in entries if entry.name.endswith(".md") and entry.name != "README.md"}
    ordered = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return {name: found[name] for name in ordered}


def load(name_or_path: str) -> Lesson:
    """A shipped lesson by name, or any lesson file by path."""
    shipped_problem: LessonError | None = None
    try:
        files = lesson_files()
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
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LessonError(shown, 0, f"a lesson is UTF-8 text; byte {data[error.start]:#04x} at offset "
                                    f"{error.start} is not") from None


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


# ---- parsing -----------------------------------------------------------------


def parse_lesson(text: str, path: str = "<lesson>") -> Lesson:
    lines = text.split("\n")
    title, summary = "", ""
    heading = ""
    narration: list[str] = []
    steps: list[Step] = []
    intro: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = FENCE.match(line.strip())
        if opening:
            fence = opening.group(1)
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
            if end is None:
                raise LessonError(path, i + 1, f"this sockrepl block is not closed (add a line {fence})")
            if intro is None:
                intro, narration = _intro(narration)
            actions = _parse_block(lines[i + 1 : end], i + 2, path)
            steps.append(Step(heading or f"Step {len(steps) + 1}", "\n".join(narration).strip(), actions, i + 1))
            narration = []
            i = end + 1
            continue
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            heading = line[3:].strip()
            narration.append(line)
        else:
            narration.append(line)
        i += 1
    if not title:
        raise LessonError(path, 1, "a lesson starts with a title line: # Title")
    if not steps:
        raise LessonError(path, 1, "a lesson needs at least one ```sockrepl block")
    intro_text = intro or ""
    paragraph = next((p.strip().replace("\n", " ") for p in intro_text.split("\n\n")
                      if p.strip() and not p.lstrip().startswith(("#", ">", "<!--"))), "")
    summary = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    return Lesson(Path(path).stem, path, title, summary, intro_text, tuple(steps), "\n".join(narration).strip())


def _intro(narration: list[str]) -> tuple[str, list[str]]:
    """Text before the first `## ` heading is the lesson's introduction."""
    for index, line in enumerate(narration):
        if line.startswith("## "):
            return "\n".join(narration[:index]).strip(), narration[index:]
    return "", narration


def _parse_block(block: list[str], first_line: int, path: str) -> tuple[Action, ...]:
    actions: list[Action] = []
    for offset, raw in enumerate(block):
        number = first_line + offset
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("?"):
            _need_action(actions, path, number, "a state check")
            last = actions[-1]
            actions[-1] = Action(last.line, last.source, last.command, last.expects,
                                 (*last.checks, _parse_check(text, path, number)))
            continue
        expect = _parse_expect(text, number)
        if expect is not None:
            _need_action(actions, path, number, "an expected result")
            last = actions[-1]
            actions[-1] = Action(last.line, last.source, last.command, (*last.expects, expect), last.checks)
            continue
        actions.append(_parse_command(text, path, number))
    return tuple(actions)


def _need_action(actions, path, number, what):
    if not actions:
        raise LessonError(path, number, f"{what} must follow a command line (NAME> COMMAND)")


def _parse_expect(text: str, number: int) -> Expect | None:
    if text.startswith("= ") or text == "=":
        return Expect(number, "result", text[1:].strip())
    if text in ("<unfinished ...>", "... <unfinished ...>"):
        return Expect(number, "unfinished", text)
    if text.startswith("["):
        return Expect(number, "text", text)
    if text.startswith("| ") or text == "|":
        return Expect(number, "text", text[2:])
    return None


def _parse_command(text: str, path: str, number: int) -> Action:
    match = COMMAND.match(text)
    if not match:
        raise LessonError(path, number, f"not a command (NAME> COMMAND or > COMMAND), an expected result "
                                        f"(= ..., [NAME] ..., | ...) or a state check (? ...): {text!r}")
    process, body = match.group(1), match.group(2).strip()
    try:
        command = parse(f"{process}: {body}" if process else body)
    except ParseError as error:
        hint = f" ({error.hint})" if error.hint else ""
        raise LessonError(path, number, f"{error.message}{hint}") from None
    if command is None:
        raise LessonError(path, number, "empty command")
    if command.name in FORBIDDEN:
        raise LessonError(path, number, f"a lesson cannot run {command.name!r}")
    _check_paths(command, path, number)
    return Action(number, text, command)


def _check_paths(command: Command, path: str, number: int) -> None:
    """A lesson may only touch the scratch directory (relative paths) and abstract names."""
    for key in ("addr", "path"):
        value = command.args.get(key)
        outside = isinstance(value, bytes) and not value.startswith(b"\0") and (
            value.startswith(b"/") or b".." in value.split(b"/"))
        if outside:
            raise LessonError(path, number, "a lesson may only use relative paths (they live in the scratch "
                                            "directory) and abstract @names")


_CHECK = re.compile(r"^\?\s*(?:(file)\s+(\S+)|([A-Za-z_][\w.-]*)(?:\s+fd\s+(\d+))?)\s*:\s*(.*)$")


def _parse_check(text: str, path: str, number: int) -> StateCheck:
    match = _CHECK.match(text)
    if not match:
        raise LessonError(path, number, "a state check reads: ? NAME: key=value ..., ? NAME fd N: key=value ..., "
                                        "or ? file PATH: key=value ...")
    is_file, file_path, process, fd, rest = match.groups()
    wants = []
    for item in rest.split():
        key, sep, value = item.partition("=")
        if not sep or key not in CHECK_KEYS[("file" if is_file else "fd" if fd else "process")]:
            kind = "file" if is_file else "fd" if fd else "process"
            raise LessonError(path, number, f"unknown check {item!r}; a {kind} check knows "
                                            + ", ".join(CHECK_KEYS[kind]))
        wants.append((key, value))
    if not wants:
        raise LessonError(path, number, "a state check needs at least one key=value")
    subject = ("file", file_path) if is_file else ("fd", process, fd) if fd else ("process", process)
    return StateCheck(number, subject, tuple(wants), text)


CHECK_KEYS = {
    "fd": ("type", "role", "state", "local", "peer", "peer_owner", "pending", "backlog", "unread", "shutdown",
           "accepted", "exists"),
    "process": ("blocked", "alive", "stopped", "fds"),
    "file": ("exists", "bound", "owner", "kind"),
}


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
    from sockrepl.render import event_lines, plain

    events = session.execute(action.command)
    lines = [plain([line]) for event in events for line in event_lines(event, 200)]
    return events, lines


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
    session = Session()
    try:
        for number, step in enumerate(lesson.steps, 1):
            for action in step.actions:
                events, lines = run_action(session, action)
                result.transcript += [action.source, *lines]
                mismatch = action_mismatch(session, action, events, lines, lesson.path)
                if mismatch:
                    result.failure, result.failed_step = mismatch, number
                    return result
            result.steps_passed = number
    finally:
        session.close()
        result.seconds = time.monotonic() - started
    return result
