"""A signal that ends sockrepl while it starts a process: nothing started may be left unknown.

A tracer in a child Python sends SIGTERM to itself at the chosen instant of a spawn (no sleeps):
right after the fork inside `subprocess.Popen`, as `Popen` returns, as `start_workers` returns.
When sockrepl's function returns, the child lists its own children from /proc: every process the
session started must be reaped by then (PR_SET_PDEATHSIG would hide a lost one once sockrepl exits).
"""

import os
import re
import signal
import subprocess
import sys

import pytest

# The session's mode runs through cli.main; `instant` and the `nth` Popen of the run say when SIGTERM comes.
_SIGNAL_IN_SPAWN = r'''
import linecache, os, signal, sys
from sockrepl import cli

instant, nth, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
popens = 0

def send(frame, event, arg):
    sys.settrace(None)
    os.kill(os.getpid(), signal.SIGTERM)  # its Stop is raised here, unless the signal is blocked
    return None

def after_fork(frame, event, arg):
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    if event == "line" and line == "self._child_created = True":  # _fork_exec has returned the pid
        return send(frame, event, arg)
    return after_fork

def on_return(frame, event, arg):
    return send(frame, event, arg) if event == "return" else on_return

def tracer(frame, event, arg):
    global popens
    code = frame.f_code
    if event != "call":
        return None
    if code.co_qualname == "Popen.__init__" and code.co_filename.endswith("subprocess.py"):
        popens += 1
        return on_return if (instant, popens) == ("returned", nth) else None
    if code.co_qualname == "Popen._execute_child" and (instant, popens) == ("fork", nth):
        return after_fork
    if code.co_name == "start_workers" and instant == "started" and popens == nth - 1:
        return on_return
    return None

sys.settrace(tracer)
status = cli.main(argv)
sys.settrace(None)
left = []
for task in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{task}/children") as f:
        for pid in f.read().split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as g:
                    left.append(pid + " " + g.read().replace(bytes(1), b" ").decode(errors="replace"))
            except OSError:
                left.append(f"{pid} (zombie)")
print("left:", left, file=sys.stderr)
sys.exit(status)
'''

_LESSON = """# Two

## Spawn

```sockrepl
> spawn a b
| spawned a (pid {pid}), b (pid {pid}); current process: a
```
"""

# Popens of each run: `run` starts p1, then the script's `spawn a b`; a lesson its namespace's helper, then a and b.
INSTANTS = [("fork", 1), ("fork", 2), ("fork", 3), ("returned", 1), ("returned", 3), ("started", 2)]


def _stopped_in_spawn(tmp_path, mode: str, instant: str, nth: int) -> subprocess.CompletedProcess:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    if mode == "run":
        script = tmp_path / "script.txt"
        script.write_text("spawn a b\na: socket AF_UNIX SOCK_STREAM\n")
        argv = ["run", str(script)]
    else:
        lesson = tmp_path / "two.md"
        lesson.write_text(_LESSON)
        argv = ["lesson", "--check", str(lesson)]
    return subprocess.run([sys.executable, "-c", _SIGNAL_IN_SPAWN, instant, str(nth), *argv], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TMPDIR": str(scratch)})


@pytest.mark.parametrize(("instant", "nth"), INSTANTS, ids=[f"{i}-{n}" for i, n in INSTANTS])
@pytest.mark.parametrize("mode", ["run", "lesson"])
def test_a_signal_while_a_process_starts_leaves_nothing(tmp_path, mode, instant, nth):
    """fork: SIGTERM after the fork, before Popen returned: the worker was never recorded, so close() left it
    running (until sockrepl exited). returned / started: the same once Popen or start_workers had returned."""
    run = _stopped_in_spawn(tmp_path, mode, instant, nth)
    assert run.returncode == 128 + signal.SIGTERM, (run.stdout, run.stderr)
    *said, left = run.stderr.splitlines()
    assert left == "left: []", run.stderr
    if mode == "lesson":
        assert run.stdout.splitlines()[-1] == "STOP lesson --check: SIGTERM; processes and files cleaned up"
        assert said == []
    else:
        assert len(said) == 1 and said[0].startswith("sockrepl: scratch directory "), run.stderr
    assert os.listdir(tmp_path / "tmp") == []


def _blocked(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", f.read(), re.M)[1], 16)


def test_a_worker_blocks_no_signal(live):
    """Workers are forked with the signals that end sockrepl blocked (so none strikes before one is recorded);
    each unblocks them first: SIGINT still interrupts its calls, a SIGTERM from outside still ends it."""
    s = live()
    s.feed("spawn a b")
    assert {name: _blocked(pid) for name, pid in s.pids.items()} == {"p1": 0, "a": 0, "b": 0}
    for line in ("socket AF_UNIX SOCK_STREAM", "bind 3 a.sock", "listen 3 1"):
        s.feed(line)
    assert s.feed("accept 3") == ["[a] accept(3, NULL, NULL <unfinished ...>"]
    assert s.feed("interrupt a") == ["[a] <... accept resumed>) = -1 EINTR (Interrupted system call)"]
    assert s.finish()[0] == 0
