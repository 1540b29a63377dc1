"""A seeded fuzz of lesson files: random Markdown with escapes, control characters, placeholders,
numbers, fences and headings. Parsing raises nothing but LessonError; matching never fails or
lingers; `--check` prints no control byte. Bounded: a few seconds."""

import io
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from sockrepl.lesson_format import parse_lesson
from sockrepl.lesson_lines import LessonError
from sockrepl.lessons import output_mismatch, placeholder_match
from sockrepl.lessons_cli import check

CONTROL = frozenset(chr(c) for c in range(32) if c != 10) | {"\x7f", "\x9b", "\u202e", "\u2028"}
PLACEHOLDER = st.sampled_from(["{pid}", "{uid}", "{gid}", "{inode}", "{n}", "{hex}", "{*}", "{", "}", "{x}"])
NASTY = st.sampled_from(["\x1b[2J", "\x1b]52;c;UFdORUQ=\x07", "\x01\x1b]0;T\x1b\\\x02", "\x00", "\r", "\t",
                         "\u202e", "\x9b31m", "\\x1b", "\\n", "\\", '"', "`", "~", "*", "_", "[a](b)", "<b>"])
NUMBER = st.integers(-(10**30), 10**30).map(str)
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
TEXT = st.lists(st.one_of(WORDS, NASTY, PLACEHOLDER, NUMBER), max_size=6).map("".join)
LINE = st.one_of(
    st.sampled_from(["```sockrepl", "```", "~~~sockrepl", "~~~", "````sockrepl", "```sockrepl x", "    ```",
                     "> spawn a", "a> socket AF_UNIX SOCK_STREAM", "a> socket AF_UNIX SOCK_DGRAM",
                     "a> bind 3 x.sock", "a> listen 3 1", "a> accept 3", "a> close 3", "> ps", "<unfinished ...>",
                     "? a: blocked=no", "? a fd 3: state=BOUND role=active", "? file x.sock: exists=yes", ""]),
    TEXT.map(lambda t: "# " + t), TEXT.map(lambda t: "## " + t),
    TEXT.map(lambda t: "= " + t), TEXT.map(lambda t: "| " + t), TEXT.map(lambda t: "[a] " + t),
    TEXT.map(lambda t: "a> send 3 \"" + t + "\""), TEXT.map(lambda t: "> " + t), TEXT.map(lambda t: "? " + t),
    TEXT,
)
LESSON = st.lists(LINE, max_size=24).map(lambda lines: "# Fuzz\n\n" + "\n".join(lines))
BLOCK_LINE = st.one_of(
    st.sampled_from(["a> socket AF_UNIX SOCK_STREAM", "a> socket AF_UNIX SOCK_DGRAM", "a> bind 3 x.sock",
                     "a> listen 3 1", "a> accept 3", "a> close 3", "> ps", "= 3", "= 0", "= -1 EBADF",
                     "<unfinished ...>", "? a: blocked=no", "? a fd 3: state=BOUND role=active",
                     "? file x.sock: exists=yes", "# a comment", ""]),
    TEXT.map(lambda t: "= " + t), TEXT.map(lambda t: "| " + t), TEXT.map(lambda t: "[a] " + t),
    TEXT.map(lambda t: "a> send 3 \"" + t + "\""), TEXT.map(lambda t: "a> bind 3 " + t),
)
STEP = st.tuples(TEXT, st.lists(TEXT, max_size=3), st.lists(BLOCK_LINE, max_size=6)).map(
    lambda parts: f"## {parts[0]}\n\n" + "\n".join(parts[1]) + "\n\n```sockrepl\n> spawn a\n"
    + "\n".join(parts[2]) + "\n```\n")
WELL_FORMED = st.tuples(TEXT, TEXT, st.lists(STEP, min_size=1, max_size=3), TEXT).map(
    lambda parts: f"# {parts[0]} x\n\n{parts[1]}\n\n" + "\n".join(parts[2]) + "\n" + parts[3])


def test_parsing_random_lessons_raises_only_lesson_errors():
    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(st.one_of(LESSON, WELL_FORMED), st.lists(TEXT, max_size=4))
    def parse(text, output):
        try:
            lesson = parse_lesson(text, "fuzz.md")
        except LessonError as error:
            assert error.path == "fuzz.md" and error.line >= 0 and error.message
            return
        for step in lesson.steps:
            for action in step.actions:
                output_mismatch(action.expects, output)  # any printed lines: a verdict, never an exception

    parse()


def test_placeholder_matching_is_quick_on_anything():
    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.one_of(PLACEHOLDER, st.text("ab1-{}*", max_size=4)), max_size=40).map("".join),
           st.text("ab1-{}*", max_size=1000))
    def match(pattern, line):
        started = time.monotonic()
        placeholder_match(pattern, line)
        assert time.monotonic() - started < 0.5

    match()


def test_checking_random_lessons_prints_no_control_byte(tmp_path):
    """The whole `--check` path, in process, on the random lessons that parse (each replays in a real session)."""
    replayed = []

    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(WELL_FORMED)
    def check_one(text):
        path = tmp_path / "fuzz.md"
        path.write_text(text, encoding="utf-8")
        out = io.StringIO()
        status = check([str(path)], out=out)
        assert status in (0, 1)
        printed = out.getvalue()
        assert not CONTROL.intersection(printed), repr(printed)
        replayed.append(" steps  " in printed or "  step " in printed)

    check_one()
    assert sum(replayed) >= 8  # most random lessons parse, and replay in a real session
