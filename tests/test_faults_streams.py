"""Output lost or unreadable: a broken pipe, closed or full standard streams, stdout that cannot encode."""

import os
import subprocess
import sys

import pytest
from conftest import (
    FIRST_LINE,
    gone,
    normalize,
    only_scratch_line,
    python_errors,
    run_sockrepl,
    scratch_of,
    spawned_pids,
    wait_until,
)

# ---- standard streams closed, full or gone -----------------------------------------------------------


def test_broken_pipe_on_stdout_exits_quietly(tmp_path):
    script = tmp_path / "lesson.txt"
    script.write_text("spawn srv cli\nsrv: socket AF_UNIX SOCK_STREAM\nsrv: bind 3 srv.sock\nsrv: listen 3 1\n"
                      + "help\n" * 60 + "srv: accept 3\n" + "help\n" * 60)
    err = tmp_path / "err.txt"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", f'"$0" -m sockrepl run {script} 2>{err} | head -1',
                             sys.executable], capture_output=True, timeout=60)
    assert result.stdout.startswith(b"spawned p1 (pid ")
    assert result.returncode == 141  # sockrepl's own status: 128 + SIGPIPE, said quietly
    errors = err.read_bytes()
    assert only_scratch_line(errors), errors
    assert not os.path.exists(scratch_of(errors))
    wait_until(lambda: all(gone(p) for p in spawned_pids(result.stdout)), what="workers gone")


def _sockrepl_with(redirect: str, *args, tmp_path, script=b"spawn a\na: socket AF_UNIX SOCK_STREAM\n"):
    """sockrepl with a shell redirection of its standard streams; its scratch directory goes under tmp_path."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    return subprocess.run(["sh", "-c", f'exec "$0" -m sockrepl "$@" {redirect}', sys.executable, *args],
                          input=script, capture_output="2>" not in redirect, timeout=60, env=env)


FULL = b"sockrepl: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("redirect, args, message", [
    (">/dev/full", ("run", "-"), FULL),
    (">/dev/full", ("lesson", "--check", "phone"), FULL),
    (">/dev/full", ("lesson",), FULL),
    (">/dev/full", ("--help",), FULL),  # argparse's own output: it was a traceback at exit, and status 120
    (">/dev/full", ("--version",), FULL),
    (">&-", ("run", "-"), b"sockrepl: standard output is closed: there is nowhere to print to\n"),
    ("<&-", ("run", "-"), b"sockrepl: standard input is closed: there is no script to read "
                          b"(sockrepl run FILE reads a file)\n"),
])
def test_closed_or_full_standard_streams_get_one_line_and_status_74(tmp_path, redirect, args, message):
    if redirect == ">&-":
        result = subprocess.run(["sh", "-c", f'exec "$0" -m sockrepl "$@" {redirect}', sys.executable, *args],
                                input=b"spawn a\n", stderr=subprocess.PIPE, timeout=60,
                                env={**os.environ, "TMPDIR": str(tmp_path)})
    else:
        result = _sockrepl_with(redirect, *args, tmp_path=tmp_path)
    assert result.returncode == 74
    lines = result.stderr.splitlines(keepends=True)
    assert lines[-1] == message and len(lines) <= 2, result.stderr  # at most the scratch line before it
    assert os.listdir(tmp_path) == []  # cleanup ran: no scratch directory left


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2>&-"])
def test_an_unwritable_stderr_at_start_neither_stops_nor_leaks(tmp_path, redirect):
    result = _sockrepl_with(redirect + " >" + str(tmp_path / "out"), "run", "-", tmp_path=tmp_path)
    assert result.returncode == 0
    out = (tmp_path / "out").read_bytes().decode()
    assert normalize(out) == FIRST_LINE + "\nspawned a (pid N); current process: a\n" \
                             "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3\n"
    assert os.listdir(tmp_path) == ["out"]


def test_stdout_and_stderr_into_a_closed_pipe_leave_nothing(tmp_path):
    result = subprocess.run(["bash", "-o", "pipefail", "-c", 'exec 3>&1; "$0" -m sockrepl run - 2>&1 | true',
                             sys.executable], input=b"spawn a\n" + b"help\n" * 50, timeout=60,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 141
    assert os.listdir(tmp_path) == []


# ---- encodings (issue 10, section 4) -----------------------------------------------------------------


NOT_UTF8_LINES = ("# p1 is there from the start\nsend 3 \"\\\udcff\"\nspawn --\udcff x\n"  # \udcff: a raw 0xff byte
                  "socket AF_UNIX SOCK_STREAM\nbind 3 \"\\xff\"\nstate\nls\nss\n")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "utf-8:strict"},
                                 {"LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8"},
                                 {"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}],
                         ids=["utf8-strict", "lang-utf8", "ascii", "lc-all-c"])
def test_a_strict_or_ascii_stdout_shows_undecodable_bytes_escaped(env):
    result = run_sockrepl(NOT_UTF8_LINES, env={**os.environ, **env})
    assert result.returncode == 2 and not python_errors(result.stdout, result.stderr), result.stderr
    out = result.stdout.decode("ascii" if "ascii" in env.values() or "C" in env.values() else "utf-8")
    assert "line 2: error: unknown escape \\\\xff in a string" in out
    assert "line 3: error: spawn: unknown option --\\xff" in out
    assert '[p1] bind(3, {sa_family=AF_UNIX, sun_path="\\377"}, 3) = 0' in out  # as strace writes it
    assert "socket files:  \\xff (bound: p1 fd 3)" in out and out.count("\\xff") >= 6  # state, ls, ss
