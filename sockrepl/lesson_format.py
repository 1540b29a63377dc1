"""The lesson file format: Markdown read with markdown-it-py, fenced `sockrepl` blocks as steps.

Pure: text in, a `Lesson` or a `LessonError` (file, line, what is wrong) out.
Markdown decides what is a heading and what is a fence, so a `## ` line inside a
```c block stays code. A fence's info string selects the block kind: `sockrepl`
is a step of commands; `sockrepl KIND` looks KIND up in `BLOCK_KINDS`, where other
kinds of block can be added; lesson_lines.py reads the lines inside a block.
Mistakes an author makes silently (a misspelled fence, a check on a process the
lesson never spawned, a duplicate key) are errors here, so `--check` and opening
a lesson both report them.
"""

import errno
import functools
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sockrepl.lesson_lines import (
    RUN_PLACEHOLDER,
    RUN_TAG,
    Action,
    Block,
    Expect,
    LessonError,
    StateCheck,
    parse_check,
    parse_commands,
    parse_expect,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

FENCE_WORD = "sockrepl"
_OWNER_KEYS = ("peer_owner", "owner")  # their value is NAME:FD, naming a process


@functools.cache
def _markdown() -> "MarkdownIt":
    """markdown-it is loaded when a lesson is first read: the REPL's first prompt does not wait for it (~25 ms)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


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


TITLE_MAX = 120  # characters of a `# ` or `## ` heading: the shipped lessons' longest is 66


def parse_lesson(text: str, path: str = "<lesson>") -> Lesson:
    """Headings and fences from markdown-it; each block's lines from `BLOCK_KINDS`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as markdown-it does, so line numbers agree
    lines = text.split("\n")
    tokens = _markdown().parse(text)
    title, start = "", 0
    h2: list[tuple[int, int, str]] = []  # (first line, end line, text) of each `## ` heading, 0-based
    fences: list[tuple[int, int, Token]] = []  # (first line, end line, token), 0-based
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            words = tokens[index + 1].content.strip()
            if token.tag in ("h1", "h2") and len(words) > TITLE_MAX:
                raise LessonError(path, token.map[0] + 1, f"a title is one short line: this one has {len(words)} "
                                  f"characters, at most {TITLE_MAX} (it heads the screen and the projector)")
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


def _block_kind(fence: "Token", path: str) -> str | None:
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


def _need_closed(fence: "Token", first: int, end: int, lines: list[str], path: str) -> None:
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
    checks = tuple(parse_check("?" + text, block.path, line) for line, key, text in found if key == "?")
    seen: list[Expect] = []
    for line, key, text in found:
        expect = parse_expect(text, line) if key == "seen:" else None
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


