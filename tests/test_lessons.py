"""Lessons: the format's parser, its matching rules, and every shipped lesson against the kernel."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from sockrepl.lesson_format import parse_lesson
from sockrepl.lesson_lines import Expect, LessonError
from sockrepl.lessons import check_lesson, expect_matches, lesson_files, load, output_mismatch, placeholder_match

GOOD = """\
# A title

The summary sentence. More text.

## First step

Some narration.

```sockrepl
> spawn a
a> socket AF_UNIX SOCK_STREAM
= 3
? a fd 3: state=UNCONNECTED role=active
```

Closing words.
"""


def test_parse_a_lesson():
    lesson = parse_lesson(GOOD, "x.md")
    assert (lesson.title, lesson.summary, lesson.outro) == ("A title", "The summary sentence.", "Closing words.")
    (step,) = lesson.steps
    assert step.title == "First step" and "Some narration." in step.narration
    spawn, socket = step.actions
    assert (spawn.command.name, spawn.line, socket.command.process) == ("spawn", 10, "a")
    assert socket.expects == (Expect(12, "result", "3"),)
    assert socket.checks[0].wants == (("state", "UNCONNECTED"), ("role", "active"))


MALFORMED = [
    ("no title here\n```sockrepl\n> ps\n```\n", 1, "a lesson starts with a title line: # Title"),
    ("# T\n\ntext\n", 1, "a lesson needs at least one ```sockrepl block"),
    # a title heads the screen: 500 000 characters of one filled a projector for minutes
    ("# " + "T" * 121 + "\n```sockrepl\n> ps\n```\n", 1, "a title is one short line: this one has 121 characters, "
     "at most 120 (it heads the screen and the projector)"),
    ("# T\n\n## " + "s" * 500 + "\n```sockrepl\n> ps\n```\n", 3, "a title is one short line: this one has 500 "
     "characters, at most 120 (it heads the screen and the projector)"),
    ("# T\n```sockrepl\n> ps\n", 2, "this sockrepl block is not closed (add a line ```)"),
    ("# T\n```sockrepl\n= 3\n```\n", 3, "an expected result must follow a command line (NAME> COMMAND)"),
    ("# T\n```sockrepl\n> bnd 3 x\n```\n", 3, "unknown command 'bnd' (did you mean 'bind'? (help lists the commands))"),
    ("# T\n```sockrepl\nrm -rf /\n```\n", 3, "not a command (NAME> COMMAND or > COMMAND), an expected result "
                                            "(= ..., [NAME] ..., | ...) or a state check (? ...): 'rm -rf /'"),
    ("# T\n```sockrepl\na> unlink /etc/passwd\n```\n", 3, "a lesson may only use relative paths (they live in the "
                                                           "scratch directory) and abstract @names"),
    ("# T\n```sockrepl\na> bind 3 ../../x.sock\n```\n", 3, "a lesson may only use relative paths (they live in "
                                                            "the scratch directory) and abstract @names"),
    ("# T\n```sockrepl\n> lesson phone\n```\n", 3, "a lesson cannot run 'lesson'"),
    # the REPL's own commands: in a lesson's step they said "lesson commands work in the interactive mode"
    ("# T\n```sockrepl\n> hint\n```\n", 3, "a lesson cannot run 'hint'"),
    ("# T\n```sockrepl\n> panel off\n```\n", 3, "a lesson cannot run 'panel'"),
    ("# T\n```sockrepl\n> ps\n? a fd 3: colour=red\n```\n", 4, "unknown check 'colour=red'; a fd check knows type, "
     "role, state, local, peer, peer_owner, pending, backlog, unread, shutdown, accepted, exists"),
    ("# T\n```sockrepl\n> ps\n? whatever\n```\n", 4, "a state check reads: ? NAME: key=value ..., ? NAME fd N: "
                                                     "key=value ..., or ? file PATH: key=value ..."),
    # a fence that looks like a misspelled `sockrepl` would silently drop a step
    ("# T\n```sockrep\n> ps\n```\n", 2, "fence ```sockrep looks like a misspelled ```sockrepl: as written it is "
                                        "shown as code and never run (write ```sockrepl)"),
    ("# T\n```sockrepl-\n> ps\n```\n", 2, "fence ```sockrepl- looks like a misspelled ```sockrepl: as written it "
                                          "is shown as code and never run (write ```sockrepl)"),
    ("# T\n\n~~~ SockRepl\n> ps\n~~~\n", 3, "fence ```SockRepl looks like a misspelled ```sockrepl: as written it "
                                             "is shown as code and never run (write ```sockrepl)"),
    ("# T\n```sockrepl exercize\n> ps\n```\n", 2,
     "unknown block kind 'exercize' (known: ```sockrepl, ```sockrepl exercise, ```sockrepl predict)"),
    # a check on a process the lesson never spawned used to pass vacuously
    ("# T\n```sockrepl\n> spawn ask\n? askr fd 3: exists=no\n```\n", 4,
     "this state check names 'askr', a process this lesson has not spawned (spawned so far: ask)"),
    ("# T\n```sockrepl\n> ps\n? ask: alive=no\n```\n", 4,
     "this state check names 'ask', a process this lesson has not spawned (spawned so far: none yet)"),
    ("# T\n```sockrepl\n> spawn a\nb> socket AF_UNIX SOCK_STREAM\n```\n", 4,
     "this command names 'b', a process this lesson has not spawned (spawned so far: a)"),
    ("# T\n```sockrepl\n> spawn a\n? a fd 3: peer_owner=b:3\n```\n", 4,
     "peer_owner=b:3 names 'b', a process this lesson has not spawned (spawned so far: a)"),
    # keys: each named once, each with a value
    ("# T\n```sockrepl\n> spawn a\n? a fd 3: state=BOUND state=LISTEN\n```\n", 4,
     "'state' is checked twice in one line (state=BOUND and state=LISTEN)"),
    ("# T\n```sockrepl\n> spawn a\n? a fd 3: state= pending=1\n```\n", 4, "'state' needs a value: state=VALUE"),
    ("# T\n```sockrepl\n> spawn a\n? a fd 3: pending\n```\n", 4, "'pending' needs a value: pending=VALUE"),
]


@pytest.mark.parametrize("text,line,message", MALFORMED)
def test_malformed_lessons_name_file_and_line(text, line, message):
    with pytest.raises(LessonError) as caught:
        parse_lesson(text, "bad.md")
    assert (caught.value.path, caught.value.line, caught.value.message) == ("bad.md", line, message)
    assert str(caught.value).startswith(f"bad.md:{line}: ")


def test_markdown_decides_what_is_a_heading_and_a_fence():
    """A `## ` line inside a ```c block is code; `~~~` fences are steps; `key = value` means key=value."""
    text = ("# T\n\nIntro.\n\n## Real\n\n```c\n## not a heading\n```\n\n~~~sockrepl\n> spawn a\n"
            "a> socket AF_UNIX SOCK_STREAM\n? a fd 3: state = UNCONNECTED type =STREAM\n~~~\n")
    (step,) = parse_lesson(text, "x.md").steps
    assert step.title == "Real" and step.narration == "```c\n## not a heading\n```"
    assert step.actions[1].checks[0].wants == (("state", "UNCONNECTED"), ("type", "STREAM"))


def test_a_step_heading_with_no_narration():
    (step,) = parse_lesson("# T\n\nSummary.\n\n## Heading\n```sockrepl\n> spawn a\n```\n", "x.md").steps
    assert (step.title, step.narration) == ("Heading", "")


@pytest.mark.parametrize("expect,line,ok", [
    (Expect(1, "result", "3"), "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3", True),
    (Expect(1, "result", "3"), "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 30", False),
    (Expect(1, "result", "-1 ENOENT"), "[a] connect(3, {...}, 5) = -1 ENOENT (No such file or directory)", True),
    (Expect(1, "result", "-1 ENOENT (No such file or directory)"), "[a] x(3) = -1 ENOENT (No such file or directory)",
     True),
    (Expect(1, "result", "-1 EACCES"), "[a] x(3) = -1 ENOENT (No such file or directory)", False),
    (Expect(1, "unfinished", "<unfinished ...>"), "[a] accept(3, NULL, NULL <unfinished ...>", True),
    (Expect(1, "unfinished", "<unfinished ...>"), "[a] accept(3, NULL, NULL) = 4", False),
    (Expect(1, "text", "[a] <... accept resumed>) = 4"), "[a] <... accept resumed>) = 4", True),
    (Expect(1, "text", "| spawned a (pid {pid}); current process: a"[2:]), "spawned a (pid 42); current process: a",
     True),
    (Expect(1, "text", "spawned a (pid {pid})"), "spawned a (pid x)", False),
    (Expect(1, "text", 'bind(3, {sa_family=AF_UNIX, sun_path=@"{hex}"}, 2)'),
     'bind(3, {sa_family=AF_UNIX, sun_path=@"0001f"}, 2)', True),
])
def test_expectation_matching(expect, line, ok):
    assert expect_matches(expect, line) is ok


def test_output_must_match_one_for_one_explanations_excepted():
    lines = ["[a] read(4, \"\", 1024) = 0", "    ↳ 0 bytes = end of file", "[b] +++ exited with 0 +++"]
    assert output_mismatch((Expect(1, "result", "0"), Expect(2, "text", "[b] +++ exited with 0 +++")), lines) is None
    assert output_mismatch((Expect(1, "result", "0"),), lines) == (
        1, "unexpected extra output after this line: [b] +++ exited with 0 +++")
    assert output_mismatch((), lines) is None


def test_every_shipped_lesson_has_a_summary_steps_and_credits_the_lecture():
    for name in lesson_files():
        lesson = load(name)
        assert lesson.summary and lesson.title and len(lesson.steps) >= 5, name
        assert "Zacchiroli" in lesson.intro, f"{name} must credit the lecture (CC BY-SA)"


@pytest.mark.parametrize("name", list(lesson_files()))
def test_every_lesson_passes_against_the_kernel(name):
    result = check_lesson(load(name))
    assert result.passed, result.failure


def test_a_wrong_expectation_makes_the_check_fail(tmp_path):
    """Edit one result and one state check of a real lesson: --check must fail, naming the line."""
    source = lesson_files()["phone"].read_text()
    lines = source.splitlines()
    result_line = lines.index("= 14") + 1
    wrong = source.replace("\n= 14\n", "\n= 15\n", 1)
    (tmp_path / "wrong-result.md").write_text(wrong)
    check_line = next(i for i, text in enumerate(lines, 1) if "pending=0 backlog=1" in text)
    (tmp_path / "wrong-state.md").write_text(source.replace("pending=0 backlog=1", "pending=1 backlog=1", 1))
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", str(tmp_path / "wrong-result.md"),
                          str(tmp_path / "wrong-state.md")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"wrong-result.md:{result_line}: expected = 15\n" in run.stdout
    assert f"wrong-state.md:{check_line}: expected server fd 3: pending=1\n" in run.stdout
    assert "the kernel says: pending=0" in run.stdout


def test_check_cli_passes_and_lists(tmp_path):
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", "phone"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS phone  9 steps  ")
    listing = subprocess.run([sys.executable, "-m", "sockrepl", "lesson"], capture_output=True, text=True)
    assert "   2  phone            stream sockets as a phone call" in listing.stdout


def test_a_lesson_from_a_file_path(tmp_path):
    path = tmp_path / "mine.md"
    shutil.copy(lesson_files()["phone"], path)
    assert check_lesson(load(str(path))).passed
    with pytest.raises(LessonError):
        load(str(tmp_path / "missing.md"))
    with pytest.raises(LessonError, match="no lesson named 'nope'"):
        load("nope")


LESSONISH = ["# T", "## Step", "text", "```sockrepl", "```", "~~~sockrepl", "~~~", "> spawn a",
             "a> socket AF_UNIX SOCK_STREAM", "= 3", "= -1 ENOENT", "<unfinished ...>", "[a] x", "| y {pid}",
             "? a fd 3: state=BOUND", "? a: blocked=no", "? file x: exists=no", "? bogus", "> bnd", "a> bind 3 /etc/x",
             "\x00", "é ☎", "> lesson x", "? a fd 3: k=v"]


def test_any_text_is_a_lesson_or_a_clear_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.one_of(st.sampled_from(LESSONISH), st.text(max_size=30)), max_size=25))
    def parse_any(lines):
        try:
            parse_lesson("\n".join(lines), "fuzz.md")
        except LessonError as error:
            assert error.path == "fuzz.md" and error.line >= 0 and error.message

    parse_any()


def test_check_refuses_unreadable_lesson_files_without_a_traceback(tmp_path):
    """Nothing a path can name makes sockrepl hang or grow: FIFOs, devices and directories are refused unread."""
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    empty = tmp_path / "empty.md"
    empty.write_text("")
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)  # nobody writes: an open or read that blocks would hang the check
    zero = tmp_path / "zero.md"
    zero.symlink_to("/dev/zero")  # endless
    big = tmp_path / "big.md"
    big.write_text("# Big\n\n" + "x" * (1 << 20))
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", str(binary), str(empty),
                          str(tmp_path), str(tmp_path / "missing.md"), "/dev/null", str(fifo), str(zero), str(big)],
                         capture_output=True, text=True, timeout=20)
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 8 and all(line.startswith("FAIL ") for line in lines)
    assert f"{empty}:1: a lesson starts with a title line: # Title" in lines[1]
    assert lines[0].endswith(f"{binary}: a lesson is UTF-8 text; byte 0xff at offset 0 is not")
    assert lines[2].endswith(f"{tmp_path}: a lesson is a regular file, and this is a directory")
    assert lines[3].endswith("missing.md: cannot read the lesson: No such file or directory")
    assert lines[4].endswith("/dev/null: a lesson is a regular file, and this is a character device")
    assert lines[5].endswith(f"{fifo}: a lesson is a regular file, and this is a FIFO")
    assert lines[6].endswith(f"{zero}: a lesson is a regular file, and this is a character device")
    assert lines[7].endswith(f"{big}: a lesson is at most 1024 KiB, and this file is larger")


@pytest.mark.parametrize("pattern, line, ok", [
    ("pid {pid}, uid {uid}", "pid 42, uid 0", True),
    ("pid {pid}", "pid ", False),
    ("= {n}", "= -12", True),
    ("= {n}", "= -", False),
    ("@{hex}", "@0a1f9", True),
    ("@{hex}", "@0A1F9", False),
    ("{*}", "", True),
    ("a{*}", "a", True),
    ("{*}ab", "abab", True),  # after the last {*}, the tail is matched at the end of the line
    ("x{*}y{*}z", "x1y2y3z", True),
    ("x{*}y{*}z", "x1y2y3", False),
    ("{*}{pid})", "accept resumed>) = 4)", True),
    ("{pid}1", "121", False),  # a typed placeholder takes the longest run: documented, unlike a regex
])
def test_placeholders(pattern, line, ok):
    assert placeholder_match(pattern, line) is ok


def test_placeholders_agree_with_a_regular_expression_where_both_apply():
    """With literals and {*} only, matching left to right is exactly a full regex match (as a glob is)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    piece = st.one_of(st.sampled_from(["{*}", "a", "b", "ab", "ba", "{"]), st.text("ab", max_size=3))

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(st.lists(piece, max_size=8), st.text("ab{}*", max_size=12))
    def agree(pieces, line):
        pattern = "".join(pieces)
        regex = "".join(".*" if p == "{*}" else re.escape(p) for p in re.split(r"(\{\*\})", pattern))
        assert placeholder_match(pattern, line) is (re.fullmatch(regex, line, re.S) is not None)

    agree()


def test_many_placeholders_on_one_line_match_in_linear_time():
    """25 {*} compiled to a regex backtrack for ever; matched piece by piece they take no time."""
    program = ("from sockrepl.lesson_lines import Expect; from sockrepl.lessons import expect_matches; "
               "print(expect_matches(Expect(1, 'text', '[a] ' + '{*}x' * 25 + 'y'), '[a] ' + 'x' * 5000))")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=10)
    assert run.stdout == "False\n"


def test_a_lesson_whose_step_has_only_a_heading_opens_and_runs(tmp_path):
    """A `## ` heading straight before its block: the REPL used to die with IndexError on opening it."""
    import asyncio

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from sockrepl.engine import Engine
    from sockrepl.lesson_driver import LessonDriver
    from sockrepl.repl import Repl

    lesson = parse_lesson("# T\n\nSummary.\n\n## Heading\n```sockrepl\n> spawn a\n```\n\n## Two\n~~~sockrepl\n"
                          "a> socket AF_UNIX SOCK_DGRAM\n~~~\n", str(tmp_path / "bare.md"))

    async def main():
        with create_pipe_input() as keyboard:
            engine = Engine()
            driver = LessonDriver(lesson)
            repl = Repl(engine, engine.run_line(""), input=keyboard, output=DummyOutput(),
                        history_file=str(tmp_path / "history"), lesson=driver)
            running = asyncio.ensure_future(repl.run())
            deadline = asyncio.get_running_loop().time() + 10
            for typed, position in (("", 0), ("\r", 1), ("\r", 2)):
                keyboard.send_text(typed)
                while driver.position != position or not repl.prompt.app.is_running:
                    assert asyncio.get_running_loop().time() < deadline and not running.done(), running
                    await asyncio.sleep(0.01)
            keyboard.send_text("\x04")
            return await asyncio.wait_for(running, 10), engine

    status, engine = asyncio.run(main())
    assert status == 0 and engine.session.closed


def test_check_names_each_authoring_mistake(tmp_path):
    """A mistyped fence, a misspelled process name, a duplicate key: --check fails on each, with file and line."""
    good = lesson_files()["phone"].read_text()
    mistakes = {
        "fence.md": good.replace("```sockrepl\nserver> bind 3", "```sockrepl-\nserver> bind 3", 1),
        "name.md": good.replace("? server: blocked=accept", "? sever: blocked=accept", 1),
        "key.md": good.replace("state=BOUND local=srv.sock", "state=BOUND local=srv.sock state=LISTEN", 1),
    }
    for name, text in mistakes.items():
        assert text != good, name
        (tmp_path / name).write_text(text)
    line = {name: next(i for i, (a, b) in enumerate(zip(text.split("\n"), good.split("\n"), strict=True), 1)
                       if a != b) for name, text in mistakes.items()}
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check",
                          *(str(tmp_path / n) for n in mistakes)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    fence, name, key = run.stdout.splitlines()
    assert fence.endswith(f"fence.md:{line['fence.md']}: fence ```sockrepl- looks like a misspelled ```sockrepl: "
                          "as written it is shown as code and never run (write ```sockrepl)")
    assert name.endswith(f"name.md:{line['name.md']}: this state check names 'sever', a process this lesson has not "
                         "spawned (spawned so far: server, client)")
    assert key.endswith(f"key.md:{line['key.md']}: 'state' is checked twice in one line (state=BOUND and "
                        "state=LISTEN)")


def test_run_tag_keeps_abstract_names_of_lessons_apart():
    """`{run}` is unique per sockrepl process, and no shipped lesson binds a bare abstract name
    (abstract names are shared by the whole network namespace: two runs of a lesson would collide)."""
    from sockrepl.lesson_lines import RUN_TAG

    (step,) = parse_lesson("# T\n```sockrepl\n> spawn a\na> bind 3 @x-{run}\n? a fd 3: local=@x-{run}\n```\n").steps
    assert step.actions[1].command.args["addr"] == b"\0x-" + RUN_TAG.encode()
    assert step.actions[1].checks[0].wants == (("local", f"@x-{RUN_TAG}"),)
    for name in lesson_files():
        for step in load(name).steps:
            for action in step.actions:
                addr = action.command.args.get("addr")
                if isinstance(addr, bytes) and addr.startswith(b"\0") and len(addr) > 1:
                    assert RUN_TAG.encode() in addr, f"{name}:{action.line}: write @name-{{run}}"
