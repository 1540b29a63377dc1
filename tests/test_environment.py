"""The environment a user may start sockrepl in: no home directory, odd encodings, endless input."""

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import FIRST_LINE, normalize, run_sockrepl
from test_repl import Terminal

from sockrepl.batch import MAX_LINE

NO_HOME = ("there is no home directory to keep it in (HOME is unset and this user has none): "
           "set XDG_STATE_HOME to a directory")


def _homeless(tmp_path) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment of a user with no passwd entry and no HOME (`docker run -u 12345`, `env -i`).

    Only the real uid changes (`~` is looked up by it): the interpreter under /root stays reachable.
    """
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run sockrepl as a uid without a passwd entry")
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_STATE_HOME")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[1]))  # this tree's, from tmp_path
    return ["setpriv", f"--ruid={60000 + os.getpid() % 5000}", sys.executable, "-m", "sockrepl"], env


def test_without_a_home_the_lesson_list_and_reset_say_so(tmp_path):
    """Was `internal error: RuntimeError: Could not determine home directory.` (status 70)."""
    argv, env = _homeless(tmp_path)
    listing = subprocess.run([*argv, "lesson"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert listing.returncode == 0 and listing.stderr == ""
    assert f"your progress:\n  your progress is not kept: {NO_HOME}\n  addresses        not started\n" in listing.stdout
    reset = subprocess.run([*argv, "lesson", "--reset-progress"], capture_output=True, text=True, timeout=60,
                           env=env, cwd=tmp_path)
    assert (reset.returncode, reset.stdout, reset.stderr) == (1, "", f"sockrepl: no progress to forget: {NO_HOME}\n")
    assert os.listdir(tmp_path) == []


def test_without_a_home_a_lesson_opens_and_no_history_lands_in_the_current_directory(tmp_path):
    """The lesson failed to open (`sockrepl failed on lesson phone: RuntimeError`), and the REPL wrote its
    history to ./~/.local/state/sockrepl/history, `~` being left as it was by expanduser."""
    argv, env = _homeless(tmp_path)
    prefix = ["env", "-C", str(tmp_path), "-u", "HOME", "-u", "XDG_STATE_HOME", f"PYTHONPATH={env['PYTHONPATH']}",
              f"TMPDIR={tmp_path}", *argv[:2]]
    term = Terminal(tmp_path, columns=120, args=("lesson", "phone"), prefix=prefix)
    try:
        term.wait_for(r"step 1/9")
        assert f"your progress is not kept: {NO_HOME}" in " ".join(term.transcript().split())
        term.type("ps", wait_for=r"NAME +PID")
        term.send_now("\x04")
        term.child.expect(pexpect.EOF, timeout=30)
        term.child.wait()
    finally:
        term.close()
    assert term.child.exitstatus == 0 and os.listdir(tmp_path) == []


TOO_LONG = "error: a line is at most 1024 KiB, and this one is longer: the rest of the script is not run"


def _a_gigabyte_at_most():
    """Without the bound, reading /dev/zero by lines filled the machine's memory until the OOM killer came."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_a_script_with_no_end_of_line_stops_at_the_bound(tmp_path):
    run = subprocess.run([sys.executable, "-m", "sockrepl", "run", "/dev/zero"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)}, preexec_fn=_a_gigabyte_at_most)
    assert (run.returncode, normalize(run.stdout)) == (2, f"{FIRST_LINE}\nline 1: {TOO_LONG}\n")
    assert os.listdir(tmp_path) == []


def test_a_line_past_the_bound_on_a_pipe_ends_the_script_there(tmp_path):
    script = b"socket AF_UNIX SOCK_STREAM\n" + b"\0" * MAX_LINE + b"x\nls\n"
    run = run_sockrepl(script, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert run.returncode == 2 and os.listdir(tmp_path) == []
    assert normalize(run.stdout.decode()).splitlines() == [
        FIRST_LINE, "[p1] socket(AF_UNIX, SOCK_STREAM, 0) = 3", f"line 2: {TOO_LONG}"]


def test_a_script_that_cannot_be_read_ahead_leaves_no_scratch_directory(tmp_path):
    """/proc/self/mem opens but its first read fails (EIO): the read ahead ran before the cleanup was in place."""
    run = subprocess.run([sys.executable, "-m", "sockrepl", "run", "/proc/self/mem"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})
    said = "sockrepl: cannot read /proc/self/mem: Input/output error\n"
    assert (run.returncode, run.stdout, run.stderr) == (2, "", said)
    assert os.listdir(tmp_path) == []


def test_files_saved_with_a_byte_order_mark_read_as_their_text(tmp_path):
    """Notepad's UTF-8 starts with EF BB BF: the lesson failed `a lesson starts with a title line: # Title`,
    the manifest `Invalid statement`, the script `unknown command '\\ufeffsocket'`."""
    bom = b"\xef\xbb\xbf"
    phone = (Path(__file__).parents[1] / "lessons" / "phone.md").read_bytes()
    (tmp_path / "windows.md").write_bytes(bom + phone.replace(b"\n", b"\r\n"))
    (tmp_path / "course.toml").write_bytes(bom + b'title = "Saved on Windows"\n[[lesson]]\nname = "windows"\n'
                                           b'summary = "the phone, in CRLF"\n')
    (tmp_path / "script.txt").write_bytes(bom + b"socket AF_UNIX SOCK_STREAM\r\n")
    env = {**os.environ, "TMPDIR": str(tmp_path / "scratch")}
    os.mkdir(tmp_path / "scratch")
    listing = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--dir", str(tmp_path)], capture_output=True,
                             text=True, timeout=60, env=env)
    assert "\nSaved on Windows\n   1  windows          the phone, in CRLF\n\n" in listing.stdout
    check = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--dir", str(tmp_path), "--check", "windows"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert (check.returncode, check.stdout.split()[:4]) == (0, ["PASS", "windows", "9", "steps"])
    run = subprocess.run([sys.executable, "-m", "sockrepl", "run", str(tmp_path / "script.txt")], capture_output=True,
                         text=True, timeout=60, env=env)
    assert (run.returncode, normalize(run.stdout)) == (0, f"{FIRST_LINE}\n[p1] socket(AF_UNIX, SOCK_STREAM, 0) = 3\n")
    assert os.listdir(tmp_path / "scratch") == []


PROMPT = r"p1(\x1b\[[0-9;]*m)*>"  # between its colour codes


def test_ctrl_z_suspends_to_the_shell_and_fg_gives_the_prompt_back(tmp_path):
    """Ctrl-Z typed `^Z` into the line, and the `fg` that followed ran as `unknown command '\\x1afg'`."""
    env = {**os.environ, "PS1": "$ ", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "TMPDIR": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[1])}
    shell = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, cwd=str(tmp_path), dimensions=(24, 80),
                          encoding="utf-8", timeout=30)
    try:
        shell.expect_exact("$ ")
        shell.sendline(f"{sys.executable} -m sockrepl")
        shell.expect(PROMPT)
        shell.sendcontrol("z")
        shell.expect(r"Stopped .*sockrepl\r\n.*\$ ")
        shell.sendline("fg")
        shell.expect(PROMPT)
        shell.send("ps\r")
        shell.expect(r"\* p1 +\d+")
        shell.expect(PROMPT)  # reading keys again: between two prompts the terminal is not in raw mode
        shell.sendcontrol("d")
        shell.expect_exact("$ ")
        shell.sendline("exit $?")
        shell.expect(pexpect.EOF)
    finally:
        shell.close(force=True)
    assert shell.exitstatus == 0 and sorted(os.listdir(tmp_path)) == ["sockrepl"]  # its history, no scratch dir


def test_too_few_file_descriptors_to_start_is_said_not_an_internal_error(tmp_path):
    """`ulimit -n 6`: the check could not even make the pipe of its first process (was status 70, "please report")."""
    run = subprocess.run(["sh", "-c", 'ulimit -n 6; exec "$0" -m sockrepl lesson --check phone', sys.executable],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert (run.returncode, run.stdout) == (71, "")
    assert run.stderr == ("sockrepl: the system refuses more open files (Too many open files; ulimit -n is 6): "
                          "raise the limit; nothing was left behind\n")
    assert os.listdir(tmp_path) == []


def test_a_fifo_for_the_progress_file_is_said_and_does_not_hang(tmp_path):
    """Opening a FIFO waits for a writer: `sockrepl lesson` hung for ever, deaf to SIGTERM and Ctrl-C."""
    os.makedirs(tmp_path / "sockrepl")
    os.mkfifo(tmp_path / "sockrepl" / "progress.json")
    listing = subprocess.run([sys.executable, "-m", "sockrepl", "lesson"], capture_output=True, text=True, timeout=30,
                             env={**os.environ, "XDG_STATE_HOME": str(tmp_path)})
    assert listing.returncode == 0
    assert (f"your progress:\n  your progress file {tmp_path}/sockrepl/progress.json could not be used (not a "
            "regular file): starting fresh\n  addresses        not started\n") in listing.stdout


def test_a_fifo_for_the_history_file_does_not_hold_the_prompt(tmp_path):
    """The REPL read its history before the first prompt: with a FIFO there it never came, and only SIGKILL ended
    it (leaving its scratch directory)."""
    os.makedirs(tmp_path / "sockrepl")
    os.mkfifo(tmp_path / "sockrepl" / "history")
    term = Terminal(tmp_path)  # XDG_STATE_HOME=tmp_path
    try:
        term.wait_for(r"^p1>")
        term.type("ps", wait_for=r"\* p1 +\d+")
    finally:
        term.close()
