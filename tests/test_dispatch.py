"""One dispatch: every line is parsed by the registry first, then carried out as its entry's `runs` says.

Every command has its handler in the table of what it runs as (and a call, its worker op and
its strace form); a `NAME:` prefix is refused, in one message, on every command that does not run
in a process, by the REPL and by `sockrepl run` alike.
"""

import asyncio
import io

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from sockrepl import syscalls
from sockrepl.batch import run_script
from sockrepl.commands import REGISTRY, names_that_run
from sockrepl.engine import Engine
from sockrepl.events import CallEvent, UsageError
from sockrepl.lesson_driver import VERBS, LessonDriver
from sockrepl.lesson_format import parse_lesson
from sockrepl.parser import ParseError, parse
from sockrepl.render import call_lines, plain
from sockrepl.repl import SCREEN, Repl
from sockrepl.session import HANDLERS

NOT_IN_A_PROCESS = sorted(names_that_run("session", "lesson", "screen", "leave"))


def test_every_command_has_exactly_one_kind_of_handler_and_each_table_only_the_registrys():
    """Adding a command fails here until what carries it out exists."""
    assert set(HANDLERS) == names_that_run("session", "process")
    assert set(VERBS) == names_that_run("lesson")
    assert set(SCREEN) == names_that_run("screen")
    assert names_that_run("leave") == {"exit"}  # the front ends' own: they end
    assert names_that_run("call", "process", "session", "lesson", "screen", "leave") == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(names_that_run("call")))
def test_every_call_has_a_worker_op_and_an_strace_form(name):
    assert name in syscalls.OPS
    command = parse(REGISTRY[name].example)
    assert command is not None and command.name == name
    (line,) = call_lines(CallEvent("p1", command, "died"))  # no ValueError("no strace form")
    assert plain([line]).startswith(f"[p1] {name}(")


@pytest.mark.parametrize("name", NOT_IN_A_PROCESS)
def test_a_process_prefix_on_a_command_that_runs_in_no_process_is_refused(name):
    with pytest.raises(ParseError) as caught:
        parse(f"p1: {REGISTRY[name].example}")
    assert caught.value.message == f"{name} is sockrepl's own command: it does not run in a process"
    assert caught.value.hint.startswith(f"type {name} alone, without the `p1` prefix")
    assert caught.value.command == name


@pytest.mark.parametrize("name", sorted(names_that_run("call", "process")))
def test_a_process_prefix_picks_the_process_of_a_call_or_a_process_command(name):
    example = REGISTRY[name].example
    process = parse(example).args.get("name") or "p1"  # `interrupt server`: the prefix may only repeat it
    command = parse(f"{process}: {example}")
    assert command is not None and command.process == process


@pytest.mark.parametrize("line", ["a: wait b", "a: why b fd 3", "a: interrupt b", "a: signal b SIGPIPE ignore"])
def test_a_prefix_and_a_name_that_differ_are_refused(line):
    """`a: wait b` waited for b, the prefix silently dropped."""
    with pytest.raises(ParseError) as caught:
        parse(line)
    name = line.split()[1]
    assert caught.value.message == f"{name}: the `a:` prefix and NAME b name two processes"
    assert caught.value.hint == f"name it once: {name} b, or a: {name}"
    assert parse(line.replace("a: ", "b: ")).process == "b"


def test_a_script_refuses_a_prefix_on_help_timeline_and_the_other_sessions_commands():
    """`a: help` and `a: timeline` ran, the prefix silently dropped; `a: use b` did nothing visible."""
    out = io.StringIO()
    status = run_script(io.BytesIO(b"spawn a b\na: help\na: timeline\na: use b\na: ps\nps\n"), out)
    lines = out.getvalue().splitlines()
    assert status == 2
    for number, name in ((2, "help"), (3, "timeline"), (4, "use"), (5, "ps")):
        assert f"line {number}: error: {name} is sockrepl's own command: it does not run in a process" in lines
    assert "* a " in out.getvalue()  # `use b` did not run: a is still the current process


@pytest.mark.parametrize("leave", ["exit", "quit()", "  exit()"])
def test_a_script_ends_at_exit_in_any_spelling(leave):
    out = io.StringIO()
    assert run_script(io.BytesIO(f"spawn a\n{leave}\nspawn b\n".encode()), out) == 0
    assert "spawned b" not in out.getvalue()


PREDICTION = """# T

Summary.

## Start

```sockrepl
> spawn a
```

## Guess

```sockrepl predict
question: What does socket return?
answer: r 3
a> socket AF_UNIX SOCK_DGRAM
```
"""


def run_repl(tmp_path, monkeypatch, lines, lesson=None):
    """Type `lines` into an in-process REPL (after Enter, when in a lesson); what it said and printed."""
    said: list[str] = []
    monkeypatch.setattr(Repl, "say", lambda self, text, style="class:info": said.append(text))
    monkeypatch.setattr(Repl, "print_events", lambda self, events, pageable=False: said.extend(
        f"error: {e.message}" if isinstance(e, UsageError) else type(e).__name__ for e in events))

    async def main():
        with create_pipe_input() as keyboard:
            engine = Engine()
            driver = LessonDriver(parse_lesson(lesson, str(tmp_path / "t.md"))) if lesson else None
            repl = Repl(engine, engine.run_line("" if lesson else "spawn p1"), input=keyboard,
                        output=DummyOutput(), history_file=str(tmp_path / "history"), lesson=driver)
            running = asyncio.ensure_future(repl.run())
            deadline = asyncio.get_running_loop().time() + 10
            typed = ["", *lines] if lesson else lines
            for line in typed:
                count = len(said)
                keyboard.send_text(line + "\r")
                while len(said) == count or not repl.prompt.app.is_running:
                    assert asyncio.get_running_loop().time() < deadline and not running.done(), said
                    await asyncio.sleep(0.01)
            keyboard.send_text("\x04")
            return await asyncio.wait_for(running, 10)

    assert asyncio.run(main()) == 0
    return said


def test_the_repl_refuses_a_prefix_on_its_own_commands(tmp_path, monkeypatch):
    said = run_repl(tmp_path, monkeypatch, ["p1: next", "p1: help", "p1: panel off"])
    for name in ("next", "help", "panel"):
        assert f"error: {name} is sockrepl's own command: it does not run in a process" in said


def test_a_prefixed_exit_during_a_prediction_is_refused_not_taken_for_an_answer(tmp_path, monkeypatch):
    """`a: exit` and `a: next` at a prediction were read as (wrong) answers."""
    said = run_repl(tmp_path, monkeypatch, ["a: exit", "a: next", "r 3"], lesson=PREDICTION)
    assert "error: exit is sockrepl's own command: it does not run in a process" in said
    assert "error: next is sockrepl's own command: it does not run in a process" in said
    assert any(text.startswith("✓ right") for text in said), said
