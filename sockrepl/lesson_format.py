"""The lesson file format: Markdown read with markdown-it-py, fenced `sockrepl` blocks as steps.

Pure: text in, a `Lesson` or a `LessonError` (file, line, what is wrong) out.
Markdown decides what is a heading and what is a fence, so a `## ` line inside a
```c block stays code. A fence's info string selects the block kind: `sockrepl`
is a step of commands; `sockrepl KIND` looks KIND up in `BLOCK_KINDS`, where other
kinds of block can be added. Mistakes an author makes silently (a misspelled
fence, a check on a process the lesson never spawned, a duplicate key) are
errors here, so `--check` and opening a lesson both report them.
"""

import errno
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from sockrepl.commands import Command, ParseError, parse

FORBIDDEN = {"lesson", "next", "back", "reset", "goto", "exit", "export"}  # export: writes outside the scratch dir
FENCE_WORD = "sockrepl"
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
_OWNER_KEYS = ("peer_owner", "owner")  # their value is NAME:FD, naming a process
_MARKDOWN = MarkdownIt("commonmark")


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
class Exercise:
    """A `sockrepl exercise` block: a goal the student reaches with their own commands.

    The goal is its state checks (against the kernel) and its `seen:` lines (some
    output line since the exercise began); the step's actions are the author's solution.
    """

    goal: str
    checks: tuple[StateCheck, ...]
    seen: tuple[Expect, ...]
    hints: tuple[str, ...]


OutcomeKind = Literal["r", "b", "e", "k"]
CHOICES: dict[str, str] = {"r": "returns", "b": "blocks", "e": "fails", "k": "is killed"}


@dataclass(frozen=True)
class Answer:
    """What a call did, as a prediction names it: `r`, `r 10`, `b`, `e ECONNREFUSED`, `k SIGPIPE`."""

    kind: OutcomeKind
    detail: str = ""  # the value, errno or signal; "" when the answer does not name one


@dataclass(frozen=True)
class Prediction:
    """A `sockrepl predict` block: the question is asked before its one command runs."""

    question: str
    answer: Answer  # the author's, checked against the kernel by --check
    explanation: str
    line: int


@dataclass(frozen=True)
class Step:
    """One fenced block and the narration before it (the `## ` heading is its title, not its narration)."""

    title: str
    narration: str
    actions: tuple[Action, ...]
    line: int
    kind: str = ""  # the word after `sockrepl` in the fence's info string; "" for a plain step
    exercise: Exercise | None = None
    prediction: Prediction | None = None


@dataclass(frozen=True)
class Lesson:
    name: str
    path: str
    title: str
    summary: str
    intro: str
    steps: tuple[Step, ...]
    outro: str = ""


@dataclass(frozen=True)
class Block:
    """A fenced block's lines as a block parser receives them."""

    path: str
    first_line: int  # the 1-based line number of lines[0]
    lines: tuple[str, ...]


# ---- the document ----------------------------------------------------------------


def parse_lesson(text: str, path: str = "<lesson>") -> Lesson:
    """Headings and fences from markdown-it; each block's lines from `BLOCK_KINDS`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as markdown-it does, so line numbers agree
    lines = text.split("\n")
    tokens = _MARKDOWN.parse(text)
    title, start = "", 0
    h2: list[tuple[int, int, str]] = []  # (first line, end line, text) of each `## ` heading, 0-based
    fences: list[tuple[int, int, Token]] = []  # (first line, end line, token), 0-based
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            words = tokens[index + 1].content.strip()
            if token.tag == "h1" and not title:
                title, start = words, token.map[1]
            elif token.tag == "h2":
                h2.append((token.map[0], token.map[1], words))
        elif token.type == "fence" and token.map and _block_kind(token, path) is not None:
            fences.append((token.map[0], token.map[1], token))
    if not title:
        raise LessonError(path, 1, "a lesson starts with a title line: # Title")
    if not fences:
        raise LessonError(path, 1, f"a lesson needs at least one ```{FENCE_WORD} block")
    steps: list[Step] = []
    intro = ""
    for first, end, fence in fences:
        _need_closed(fence, first, end, lines, path)
        headings = [h for h in h2 if start <= h[0] < first]
        if not steps:
            intro_end = headings[0][0] if headings else start
            intro = "\n".join(lines[start:intro_end]).strip()
            start = intro_end
        titled = headings[-1] if headings else None
        narration = lines[start:titled[0]] + lines[titled[1]:first] if titled else lines[start:first]
        kind = _block_kind(fence, path) or ""
        block = Block(path, first + 2, tuple(fence.content.split("\n")[:-1]))
        actions, extra = BLOCK_KINDS[kind](block)
        steps.append(Step(titled[2] if titled else f"Step {len(steps) + 1}", "\n".join(narration).strip(),
                          actions, first + 1, kind, extra if isinstance(extra, Exercise) else None,
                          extra if isinstance(extra, Prediction) else None))
        start = end
    _check_process_names(steps, path)
    return Lesson(Path(path).stem, path, title, _summary(intro), intro, tuple(steps),
                  "\n".join(lines[start:]).strip())


def _summary(intro: str) -> str:
    """The intro's first sentence of prose (not a quote, a heading or a comment)."""
    paragraph = next((p.strip().replace("\n", " ") for p in intro.split("\n\n")
                      if p.strip() and not p.lstrip().startswith(("#", ">", "<!--"))), "")
    return re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]


def _block_kind(fence: Token, path: str) -> str | None:
    """The block kind a fence asks for; None for any other code block; an error for a near miss."""
    words = fence.info.split()
    line = fence.map[0] + 1 if fence.map else 0
    if not words:
        return None
    if words[0] == FENCE_WORD:
        kind = " ".join(words[1:])
        if kind not in BLOCK_KINDS:
            known = ", ".join(f"```{FENCE_WORD} {k}".rstrip() for k in BLOCK_KINDS)
            raise LessonError(path, line, f"unknown block kind {kind!r} (known: {known})")
        return kind
    if _near(words[0]):
        raise LessonError(path, line, f"fence ```{words[0]} looks like a misspelled ```{FENCE_WORD}: as written "
                                      f"it is shown as code and never run (write ```{FENCE_WORD})")
    return None


def _near(word: str) -> bool:
    """A fence word an author meant as `sockrepl`: the same letters in another case or with punctuation,
    or at most two edits away."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    return letters == FENCE_WORD or _distance(word.lower(), FENCE_WORD) <= 2


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def _need_closed(fence: Token, first: int, end: int, lines: list[str], path: str) -> None:
    """markdown-it runs an unclosed fence to the end of the file; a lesson says so instead."""
    last = lines[end - 1].strip() if end - 1 > first else ""
    if not (last.startswith(fence.markup) and set(last) == {fence.markup[0]}):
        raise LessonError(path, first + 1, f"this {FENCE_WORD} block is not closed (add a line {fence.markup})")


def _check_process_names(steps: list[Step], path: str) -> None:
    """Every process a command or a state check names must have been spawned earlier in the lesson."""
    spawned: list[str] = []

    def known(name: str, line: int, what: str) -> None:
        if name not in spawned:
            so_far = ", ".join(spawned) if spawned else "none yet"
            raise LessonError(path, line, f"{what} names {name!r}, a process this lesson has not spawned "
                                          f"(spawned so far: {so_far})")

    for step in steps:
        for action in step.actions:
            if action.command.process:
                known(action.command.process, action.line, "this command")
            if action.command.name == "spawn":
                spawned += [n for n in action.command.args["names"] if n not in spawned]
            for check in action.checks:
                _known_check(check, known)
        for check in step.exercise.checks if step.exercise else ():
            _known_check(check, known)


def _known_check(check: StateCheck, known: Callable[[str, int, str], None]) -> None:
    if check.subject[0] != "file":
        known(check.subject[1], check.line, "this state check")
    for key, value in check.wants:
        if key in _OWNER_KEYS and value != "none":
            known(value.split(":")[0], check.line, f"{key}={value}")


# ---- a plain step: commands, expected output, state checks ------------------------


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
                                 (*last.checks, _parse_check(text, block.path, number)))
            continue
        expect = _parse_expect(text, number)
        if expect is not None:
            _need_action(actions, block.path, number, "an expected result")
            last = actions[-1]
            actions[-1] = Action(last.line, last.source, last.command, (*last.expects, expect), last.checks)
            continue
        actions.append(_parse_command(text, block.path, number))
    return tuple(actions)


def _plain_step(block: Block) -> "StepBody":
    return parse_commands(block), None


def _keyed(block: Block, keys: tuple[str, ...], stop: str = "") -> tuple[list[tuple[int, str, str]], Block]:
    """The block's `key: text` lines (up to a line `stop`), and the block with them blanked for the commands."""
    found: list[tuple[int, str, str]] = []
    rest = list(block.lines)
    for offset, raw in enumerate(block.lines):
        text = raw.strip().replace(RUN_PLACEHOLDER, RUN_TAG)
        if stop and text == stop:
            rest[offset] = ""
            return found, Block(block.path, block.first_line, tuple(rest))
        key = next((k for k in keys if text.startswith(k)), None)
        if key is not None or (stop and text and not text.startswith("#")):
            if key is None:
                raise LessonError(block.path, block.first_line + offset,
                                  f"an exercise's goal reads ? checks, seen:, hint: and goal: lines, then "
                                  f"{stop} and its commands: {text!r}")
            found.append((block.first_line + offset, key, text[len(key):].strip()))
            rest[offset] = ""
    if stop:
        raise LessonError(block.path, block.first_line - 1, f"an exercise needs a line {stop} with the author's "
                                                        "solution commands after it")
    return found, Block(block.path, block.first_line, tuple(rest))


def parse_exercise(block: Block) -> "StepBody":
    found, rest = _keyed(block, ("goal:", "?", "seen:", "hint:"), stop="solution:")
    checks = tuple(_parse_check("?" + text, block.path, line) for line, key, text in found if key == "?")
    seen: list[Expect] = []
    for line, key, text in found:
        expect = _parse_expect(text, line) if key == "seen:" else None
        if key == "seen:" and expect is None:
            raise LessonError(block.path, line, "seen: takes an expected line: = RESULT, [NAME] ... or | text")
        seen += [expect] if expect else []
    if not checks and not seen:
        raise LessonError(block.path, block.first_line - 1, "an exercise's goal needs a ? state check or a seen: line")
    actions = parse_commands(rest)
    if not actions:
        raise LessonError(block.path, block.first_line - 1, "an exercise needs the author's solution commands")
    goal = " ".join(text for _, key, text in found if key == "goal:")
    hints = tuple(text for _, key, text in found if key == "hint:")
    return actions, Exercise(goal, checks, tuple(seen), hints)


def parse_prediction(block: Block) -> "StepBody":
    found, rest = _keyed(block, ("question:", "answer:", "explain:"))
    said = {key: [(line, text) for line, k, text in found if k == key] for key in ("question:", "answer:")}
    for key, lines in said.items():
        if len(lines) != 1 or not lines[0][1]:
            raise LessonError(block.path, block.first_line - 1, f"a prediction needs one {key} line")
    actions = parse_commands(rest)
    if len(actions) != 1:
        raise LessonError(block.path, block.first_line - 1, "a prediction is about exactly one command")
    answer_line, answer_text = said["answer:"][0]
    answer = parse_answer(answer_text)
    if isinstance(answer, str):
        raise LessonError(block.path, answer_line, answer)
    explanation = " ".join(text for _, key, text in found if key == "explain:")
    return actions, Prediction(said["question:"][0][1], answer, explanation, answer_line)


def parse_answer(text: str) -> "Answer | str":
    """An answer as a student or an author types it; a string says what is wrong with it."""
    words = text.split()
    kind = words[0].lower().rstrip(")").lstrip("(") if words else ""
    if kind not in CHOICES or len(words) > 2:
        return "answer with a letter, " + ", ".join(CHOICES) + ", and for e the errno (e ECONNREFUSED)"
    detail = words[1] if len(words) == 2 else ""
    if kind == "e" and detail and detail.upper() not in errno.errorcode.values():
        return f"{detail!r} is not an errno name (ECONNREFUSED, EAGAIN, EPIPE...)"
    if kind == "k" and detail and detail.upper() not in signal.Signals.__members__:
        return f"{detail!r} is not a signal name (SIGPIPE, SIGKILL...)"
    if kind == "r" and detail and not re.fullmatch(r"-?\d+", detail):
        return f"{detail!r} is not a number"
    if kind == "b" and detail:
        return "b takes nothing after it"
    return Answer(kind, detail.upper())  # type: ignore[arg-type]


StepBody = tuple[tuple[Action, ...], Exercise | Prediction | None]
BLOCK_KINDS: dict[str, Callable[[Block], StepBody]] = {
    "": _plain_step, "exercise": parse_exercise, "predict": parse_prediction}


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


def _parse_check(text: str, path: str, number: int) -> StateCheck:
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
