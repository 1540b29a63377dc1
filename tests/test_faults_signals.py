"""sockrepl itself signalled (during a run, a wait, a spawn, start-up, a lesson check): it leaves nothing.

Every wait has a deadline (`wait_until`, `Live.lines`); nothing sleeps. Afterwards /proc and the
scratch directory are checked: no worker, no socket file, no directory left.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import (
    children_of,
    gone,
    only_scratch_line,
    sockets_under,
    wait_until,
    workers_of,
)

from sockrepl import procfs
from sockrepl.commands import MAX_PROCESSES

# ---- sockrepl itself signalled during a run -------------------------------------------------------------


def _busy_session(live, tmp_path):
    """A session with a blocked accept, a relative socket file and one outside the scratch directory."""
    s = live()
    s.feed("spawn srv cli")
    outside = tmp_path / "outside.sock"
    for line in ["srv: socket AF_UNIX SOCK_STREAM", "srv: bind 3 srv.sock", "srv: listen 3 1",
                 "cli: socket AF_UNIX SOCK_DGRAM", f"cli: bind 3 {outside}"]:
        assert re.search(r"\) = [03]$", s.feed(line)[0]), line
    assert s.feed("srv: accept 3") == ["[srv] accept(3, NULL, NULL <unfinished ...>"]
    assert os.path.exists(os.path.join(s.scratch, "srv.sock")) and outside.exists()
    return s, outside


LEAVING = ["[srv] <... accept resumed> <unfinished ...>) = ?", "[srv] +++ killed by SIGKILL +++ (sockrepl is leaving)"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT,
                                    signal.SIGUSR1, signal.SIGALRM, signal.SIGXCPU, signal.SIGRTMIN])
def test_sockrepl_signalled_cleans_up_everything(live, tmp_path, signum):
    """Any signal whose default action ends a process: SIGUSR1 (a stray `kill -USR1`), SIGALRM or SIGXCPU
    (`ulimit -t`) killed sockrepl outright, leaving its scratch directory and the socket files outside it."""
    s, outside = _busy_session(live, tmp_path)
    workers = set(s.pids.values())
    assert workers_of(s.proc.pid) == workers
    s.proc.send_signal(signum)
    rc, rest, err = s.wait_exit()
    assert rc == 128 + signum
    assert rest == LEAVING
    assert only_scratch_line(err)
    wait_until(lambda: all(gone(p) for p in workers), what="workers gone")
    assert not os.path.exists(s.scratch) and not outside.exists()


def test_sockrepl_signalled_during_wait_leaves_at_once(live, tmp_path):
    s, outside = _busy_session(live, tmp_path)
    s.send("wait srv 600")
    pid = s.proc.pid

    def in_wait():
        task = procfs.task_state(pid)
        return task is not None and procfs.syscall_name(task.syscall or -1) in ("select", "pselect6", "poll", "ppoll")

    wait_until(in_wait, what="sockrepl to be inside `wait`")
    started = time.monotonic()
    s.proc.send_signal(signal.SIGHUP)
    rc, rest, err = s.wait_exit()
    assert time.monotonic() - started < 5
    assert rc == 128 + signal.SIGHUP and rest == LEAVING and only_scratch_line(err)
    assert not os.path.exists(s.scratch) and not outside.exists()


def test_sockrepl_signalled_during_spawn_leaves_no_worker(live):
    s = live()
    s.send("spawn " + " ".join(f"w{i}" for i in range(MAX_PROCESSES - 1)))  # with p1: the limit
    wait_until(lambda: len(children_of(s.proc.pid)) >= 5, what="workers starting")  # p1 and 4 of them
    s.proc.send_signal(signal.SIGTERM)
    rc, _rest, err = s.wait_exit()
    assert rc == 128 + signal.SIGTERM and only_scratch_line(err)
    wait_until(lambda: not workers_of(s.proc.pid), what="every worker gone")
    assert not os.path.exists(s.scratch)


def test_two_signals_in_a_row_still_clean_up(live, tmp_path):
    s, outside = _busy_session(live, tmp_path)
    for name in ("a", "b", "c", "d", "e", "f"):  # more processes: a longer cleanup
        s.feed(f"spawn {name}")
    s.proc.send_signal(signal.SIGHUP)  # as a closing terminal does: SIGHUP, then SIGTERM
    s.proc.send_signal(signal.SIGTERM)
    rc, _rest, err = s.wait_exit()
    try:
        assert rc in (128 + signal.SIGHUP, 128 + signal.SIGTERM)
        assert only_scratch_line(err), err
        assert not os.path.exists(s.scratch) and not outside.exists()
    finally:
        shutil.rmtree(s.scratch, ignore_errors=True)  # what the bug leaves behind (this test's own session)


# ---- cleanup on every way out (issue 10, section 5) --------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_lesson_check_stopped_by_a_signal_cleans_up(tmp_path, signum):
    """A CI timeout: SIGTERM/SIGHUP while a lesson runs leaves no worker, socket file or scratch directory."""
    proc = subprocess.Popen([sys.executable, "-m", "sockrepl", "lesson", "--check"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        wait_until(lambda: workers_of(proc.pid) and sockets_under(tmp_path), 20, "a lesson with a socket file")
        workers = workers_of(proc.pid)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert out.decode().splitlines()[-1] == (f"STOP lesson --check: {signal.Signals(signum).name}; "
                                             "processes and files cleaned up")
    assert err == b""
    wait_until(lambda: all(gone(p) for p in workers), what="workers gone")
    assert os.listdir(tmp_path) == []


def _starting_repl(tmp_path):
    import pexpect

    env = {**os.environ, "TMPDIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm"}
    os.mkdir(tmp_path / "state")
    return pexpect.spawn(sys.executable, ["-m", "sockrepl"], env=env, dimensions=(24, 80))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_before_the_repl_is_up_leaves_nothing(tmp_path, signum):
    """The scratch directory exists ~0.4 s before the prompt (prompt_toolkit is imported meanwhile)."""
    child = _starting_repl(tmp_path)
    try:
        wait_until(lambda: any(n.startswith("sockrepl-") for n in os.listdir(tmp_path)), 10, "the scratch directory")
        child.kill(signum)
        wait_until(lambda: not child.isalive(), 10, "sockrepl to leave")
    finally:
        child.terminate(force=True)
    assert (child.signalstatus, child.exitstatus) == (None, 128 + signum)  # left through its cleanup
    assert os.listdir(tmp_path) == ["state"]
    wait_until(lambda: not workers_of(child.pid), what="p1 gone")


def test_an_unprivileged_worker_dies_with_sockrepl_even_by_sigkill(live):
    """The kernel clears PR_SET_PDEATHSIG when a process changes uid: the worker sets it again after."""
    if os.geteuid() != 0:
        pytest.skip("spawn --unprivileged switches user only when sockrepl runs as root")
    s = live()
    assert s.feed("spawn --unprivileged u", 2)[1].startswith("spawned u (pid ")
    for line in ["u: socket AF_UNIX SOCK_STREAM", f"u: bind 3 @sockrepl-test-{os.getpid()}", "u: listen 3 1"]:
        assert s.feed(line)[0].endswith(") = 0") or line.endswith("STREAM")
    assert s.feed("u: accept 3") == ["[u] accept(3, NULL, NULL <unfinished ...>"]  # not reading its pipe
    worker = s.pids["u"]
    with open(f"/proc/{worker}/status") as f:
        assert re.search(r"^Uid:\s+65534\s", f.read(), re.M)
    s.proc.kill()
    s.proc.wait(10)
    try:
        wait_until(lambda: gone(worker), 5, "the unprivileged worker to die with sockrepl")
    finally:
        if not gone(worker):
            os.kill(worker, signal.SIGKILL)  # what the bug leaves behind (this test's own worker)
        shutil.rmtree(s.scratch, ignore_errors=True)  # a SIGKILLed sockrepl cannot clean: that is what it leaves


# A signal at a chosen instant of `lesson --check`, in a child (no sleeps: a tracer sends it there).
_SIGNAL_AT = r'''
import gc, os, signal, sys, weakref
from sockrepl import lessons_cli
where = sys.argv[2]

class Marker:
    pass

def send():
    os.kill(os.getpid(), signal.SIGTERM)
    sum(range(1000))  # a few bytecodes: the handler runs here

def tracer(frame, event, arg):
    name = frame.f_code.co_name
    if event == "call" and frame.f_code.co_qualname in ("Session.close", "Processes.close") and where == "close":
        sys.settrace(None)
        send()  # as close() begins, before it blocks the signals
    if event == "call" and name == "_do_spawn" and where == "gc":
        sys.settrace(None)
        marker = Marker()
        weakref.finalize(marker, send)  # its Stop is raised in a finalizer: Python prints it and drops it
        del marker
        gc.collect()
    return None

sys.settrace(tracer)
sys.exit(lessons_cli.check([sys.argv[1]]))
'''

_TINY_LESSON = """# Tiny

## One step

```sockrepl
> spawn a b
| spawned a (pid {pid}), b (pid {pid}); current process: a
a> socket(AF_UNIX, SOCK_STREAM, 0)
= 3
a> bind(3, "a.sock")
= 0
```
"""


@pytest.mark.parametrize("where", ["close", "gc"])
def test_a_signal_at_any_instant_of_lesson_check_ends_it_cleanly(tmp_path, where):
    """close: Stop as a session's close() begins (before its mask) skipped the cleanup: the scratch dir stayed.
    gc: a Stop raised in a finalizer is dropped by Python; the check ran on and said PASS, status 0."""
    lesson = tmp_path / "tiny.md"
    lesson.write_text(_TINY_LESSON)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = subprocess.run([sys.executable, "-c", _SIGNAL_AT, str(lesson), where], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 128 + signal.SIGTERM, (run.stdout, run.stderr)
    assert run.stdout.splitlines()[-1] == "STOP lesson --check: SIGTERM; processes and files cleaned up"
    assert run.stderr == ""  # not Python's "Exception ignored in ..." with a traceback
    assert os.listdir(scratch) == []
