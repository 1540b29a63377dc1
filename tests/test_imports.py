"""The package's imports go one way: no cycle, not even through an import inside a function."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sockrepl"
MODULES = {path.stem: path for path in PACKAGE.glob("*.py")}


def imports_of(path: Path) -> dict[str, set[str]]:
    """Every module `path` imports, wherever the import statement is: sockrepl's by short name, others whole."""
    found: dict[str, set[str]] = {"sockrepl": set(), "other": set()}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "sockrepl" and len(parts) > 1 and parts[1] in MODULES:
                found["sockrepl"].add(parts[1])
            elif parts[0] != "sockrepl":
                found["other"].add(parts[0])
    return found


IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def cycle_from(start: str) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one (depth-first)."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        module, path = stack.pop()
        for imported in sorted(IMPORTS[module]["sockrepl"] - {module}):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


def test_no_import_cycles():
    cycles = {name: cycle for name in sorted(MODULES) if (cycle := cycle_from(name))}
    assert cycles == {}, "import cycles: " + "; ".join(" → ".join(c) for c in cycles.values())


def test_only_the_front_ends_know_prompt_toolkit_and_rich():
    knowing = {m for m, found in IMPORTS.items() if "prompt_toolkit" in found["other"]}
    assert knowing == {"repl", "prompt_parts", "transcript", "history"}
    assert {m for m, found in IMPORTS.items() if "rich" in found["other"]} == {"richtext"}


def test_the_worker_script_needs_nothing_but_the_standard_library_the_protocol_and_its_calls():
    """worker.py runs as `python -I -S worker.py`: of the package it loads only protocol.py and syscalls.py,
    which import nothing else of it; and nothing but the worker loads syscalls.py (a libc handle, no use here)."""
    assert IMPORTS["worker"]["sockrepl"] == {"protocol", "syscalls"}
    assert IMPORTS["syscalls"]["sockrepl"] == {"protocol"}
    assert IMPORTS["protocol"]["sockrepl"] == set()
    assert {m for m, found in IMPORTS.items() if "syscalls" in found["sockrepl"]} == {"worker"}


def test_a_script_that_does_not_export_loads_no_exporter():
    """`sockrepl run` starts without the exporters, the timeline and wcwidth: only an export needs them."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import sockrepl.cli, sockrepl.batch; "
            "print(sorted({'wcwidth', 'sockrepl.exports', 'sockrepl.timeline'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code, str(PACKAGE.parent)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


def test_the_repl_starts_without_markdown_it():
    """The first prompt does not wait for the lesson parser's Markdown library (~25 ms): a lesson loads it."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import sockrepl.repl; print('markdown_it' in sys.modules); "
            "from sockrepl.lessons import load; load('phone'); print('markdown_it' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(PACKAGE.parent)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.split()) == (0, ["False", "True"]), done.stderr


LESSON_MODULES = ("sockrepl.lesson_driver", "sockrepl.coach", "sockrepl.lessons", "sockrepl.lesson_format",
                  "sockrepl.progress", "markdown_it")
REPL_SESSION = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from sockrepl.engine import Engine
from sockrepl.repl import Repl

async def main():
    with create_pipe_input() as keyboard:
        engine = Engine()
        repl = Repl(engine, engine.run_line("spawn p1"), input=keyboard, output=DummyOutput(), history_file=sys.argv[2])
        running = asyncio.ensure_future(repl.run())
        for line in sys.argv[4:]:
            keyboard.send_text(line + "\\r")
        keyboard.send_text("\\x04")
        await asyncio.wait_for(running, 20)
    print(" ".join(name for name in sys.argv[3].split() if name in sys.modules) or "none")

asyncio.run(main())
"""


@pytest.mark.parametrize("lines, loaded", [
    (["socket AF_UNIX SOCK_STREAM", "help"], "none"),
    (["lesson phone"], " ".join(LESSON_MODULES)),
])
def test_a_session_loads_the_lesson_modules_only_when_a_lesson_command_comes(tmp_path, lines, loaded):
    """The first prompt does not wait for the lesson driver, the coach and the lesson parser (~15 ms, issue 16)."""
    done = subprocess.run([sys.executable, "-c", REPL_SESSION, str(PACKAGE.parent), str(tmp_path / "history"),
                           " ".join(LESSON_MODULES), *lines],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.split("\n")[-2]) == (0, loaded), done.stdout + done.stderr
