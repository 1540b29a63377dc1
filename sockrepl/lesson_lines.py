"""A step's lines in a lesson file: commands, their expected output, state checks.

Pure: a block's lines in, `Action`s (each command with what it must print and
what the kernel must then show) or a `LessonError` out. lesson_format.py reads
the document around them: headings, fences, the kinds of block.
"""

import os
import re
from dataclasses import dataclass

from sockrepl.commands import FRONT_END_COMMANDS, Command
from sockrepl.parser import ParseError, parse

FORBIDDEN = FRONT_END_COMMANDS | {"export"}  # the REPL's own (its lesson verbs, screen, exit); export writes outside
COMMAND = re.compile(r"^([A-Za-z_][\w.-]*)?>\s?(.*)$")
CHECK_KEYS = {
    "fd": ("type", "role", "state", "local", "peer", "peer_owner", "pending", "backlog", "unread", "shutdown",
           "accepted", "exists"),
    "process": ("blocked", "alive", "stopped", "fds"),
    "file": ("exists", "bound", "owner", "kind"),
}
# `{run}` in a block's lines becomes a tag unique to this sockrepl process: abstract names are
# shared by every process of the network namespace, so a lesson's `@name-{run}` cannot collide
# with the same lesson run by someone else on the machine at the same time.
RUN_PLACEHOLDER, RUN_TAG = "{run}", format(os.getpid(), "x")


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
class Block:
    """A fenced block's lines as a block parser receives them."""

    path: str
    first_line: int  # the 1-based line number of lines[0]
    lines: tuple[str, ...]


def parse_commands(block: Block) -> tuple[Action, ...]:
    actions: list[Action] = []
    for offset, raw in enumerate(block.lines):
        number = block.first_line + offset
        text = raw.strip().replace(RUN_PLACEHOLDER, RUN_TAG)
        if not text or text.startswith("#"):
            continue
        if text.startswith("?"):
            _need_action(actions, block.path, number, "a state check")
            last = actions[-1]
            actions[-1] = Action(last.line, last.source, last.command, last.expects,
                                 (*last.checks, parse_check(text, block.path, number)))
            continue
        expect = parse_expect(text, number)
        if expect is not None:
            _need_action(actions, block.path, number, "an expected result")
            last = actions[-1]
            actions[-1] = Action(last.line, last.source, last.command, (*last.expects, expect), last.checks)
            continue
        actions.append(_parse_command(text, block.path, number))
    return tuple(actions)


def _need_action(actions, path, number, what):
    if not actions:
        raise LessonError(path, number, f"{what} must follow a command line (NAME> COMMAND)")


def parse_expect(text: str, number: int) -> Expect | None:
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


def _pairs(text: str) -> list[str]:
    """`key=value` words, where `key = value`, `key= value` and `key =value` mean `key=value` too."""
    items: list[str] = []
    for word in text.split():
        joins = items and ((word.startswith("=") and "=" not in items[-1])
                           or (items[-1].endswith("=") and items[-1].count("=") == 1 and "=" not in word))
        if joins:
            items[-1] += word
        else:
            items.append(word)
    return items


def parse_check(text: str, path: str, number: int) -> StateCheck:
    match = _CHECK.match(text)
    if not match:
        raise LessonError(path, number, "a state check reads: ? NAME: key=value ..., ? NAME fd N: key=value ..., "
                                        "or ? file PATH: key=value ...")
    is_file, file_path, process, fd, rest = match.groups()
    kind = "file" if is_file else "fd" if fd else "process"
    wants: dict[str, str] = {}
    for item in _pairs(rest):
        key, sep, value = item.partition("=")
        if key not in CHECK_KEYS[kind]:
            raise LessonError(path, number, f"unknown check {item!r}; a {kind} check knows "
                                            + ", ".join(CHECK_KEYS[kind]))
        if not sep or not value:
            raise LessonError(path, number, f"{key!r} needs a value: {key}=VALUE")
        if key in wants:
            raise LessonError(path, number, f"{key!r} is checked twice in one line ({key}={wants[key]} and "
                                            f"{key}={value})")
        wants[key] = value
    if not wants:
        raise LessonError(path, number, "a state check needs at least one key=value")
    subject = ("file", file_path) if is_file else ("fd", process, fd) if fd else ("process", process)
    return StateCheck(number, subject, tuple(wants.items()), text)
