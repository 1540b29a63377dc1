"""Shared helpers: run sockrepl as a user would, and read transcripts without run-to-run noise."""

import os
import queue
import re
import stat
import subprocess
import sys
import threading
import time

import pytest

from sockrepl.render import event_lines, plain
from sockrepl.session import Session

SCRATCH = re.compile(r"scratch directory (\S+)")


@pytest.fixture(autouse=True, scope="session")
def _private_state(tmp_path_factory):
    """Progress and history go to a directory of this run, never the user's own ~/.local/state."""
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))


@pytest.fixture(autouse=True, scope="session")
def _bytecode_cache(tmp_path_factory):
    """The sockrepl processes the tests start share a bytecode cache of this run, kept out of the source
    tree: with PYTHONDONTWRITEBYTECODE each one compiled every module it imports again (~0.1 s of CPU a start).

    Filled here, once, so that no test's first sockrepl is the one that compiles them all (seconds on a
    loaded machine, against a test's deadline).
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    subprocess.run([sys.executable, "-c", "import prompt_toolkit, rich, sockrepl.cli, sockrepl.repl, sockrepl.batch, "
                    "sockrepl.lessons_cli, sockrepl.richtext"], check=True, timeout=120)


PIDS = re.compile(r"pid (\d+)")


def run_sockrepl(script, *args, timeout=60, env=None):
    """`sockrepl run -` fed `script` on stdin."""
    data = script.encode("utf-8", "surrogateescape") if isinstance(script, str) else script
    return subprocess.run([sys.executable, "-m", "sockrepl", "run", "-", *args], input=data,
                          capture_output=True, timeout=timeout, env=env)


FIRST_LINE = "spawned p1 (pid N); current process: p1"  # normalized: how a run and the REPL start


def normalize(text: str) -> str:
    """Replace what varies run to run (pids, inodes) by placeholders."""
    text = re.sub(r"pid[ =]\d+", lambda m: m.group()[:4] + "N", text)
    text = re.sub(r"uid=\d+, gid=\d+", "uid=U, gid=G", text)
    return text


def scratch_of(stderr: bytes) -> str:
    return SCRATCH.search(stderr.decode()).group(1)


def pids_of(stdout: bytes) -> list[int]:
    return [int(p) for p in PIDS.findall(stdout.decode())]


def gone(pid: int) -> bool:
    """True once the pid is no process, or a zombie of someone else's."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):  # gone between open and read
        return True


def wait_until(condition, seconds=5.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Transcript:
    """An in-process session: type lines, get the transcript text they produced."""

    def __init__(self):
        self.session = Session()

    def __call__(self, *lines: str) -> str:
        out = []
        for line in lines:
            for event in self.session.run_line(line):
                out.append(plain(event_lines(event, 200)))
        return "\n".join(out)

    def snapshot(self):
        return self.session.snapshot()

    def close(self) -> str:
        return "\n".join(plain(event_lines(e)) for e in self.session.close())


@pytest.fixture
def typed():
    transcript = Transcript()
    cwd = os.getcwd()
    yield transcript
    transcript.close()
    os.chdir(cwd)


# ---- helpers for the hardening tests (test_fuzz.py, test_faults_*.py) ----------

SPAWNED = re.compile(r"^spawned (.*); current process: ", re.M)
SPAWNED_PID = re.compile(r"\(pid (\d+)")
# What a Python exception looks like when it escapes: a traceback, or "SomeError: ..." / "SomeError(...)"
PYTHON_ERROR = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(Error|Exception|Interrupt)\b[:(]"
                          r"|internal error")


def spawned_pids(stdout: bytes) -> list[int]:
    """Pids from the `spawned NAME (pid N), ...` lines only (data echoed in a transcript cannot fake one)."""
    text = stdout.decode("utf-8", "surrogateescape")
    return [int(p) for line in SPAWNED.findall(text) for p in SPAWNED_PID.findall(line)]


def python_errors(*outputs: bytes) -> list[str]:
    """Lines that show a Python exception or sockrepl's internal-error report."""
    found = []
    for output in outputs:
        for line in output.decode("utf-8", "replace").splitlines():
            if PYTHON_ERROR.search(line):
                found.append(line)
    return found


def sockets_under(directory) -> list[str]:
    """Socket files anywhere under `directory`."""
    found = []
    for root, dirs, files in os.walk(directory):
        for name in files + dirs:
            path = os.path.join(root, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
    return found


def children_of(pid: int) -> set[int]:
    """Live (non-zombie) children of a process, from /proc."""
    found = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found |= {int(p) for p in f.read().split()}
    except FileNotFoundError:
        return set()
    return {p for p in found if not gone(p)}


def workers_of(sockrepl_pid: int) -> set[int]:
    """Worker processes started by that sockrepl (their argv names its pid), wherever they are now."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        ours = any(a.endswith(b"worker.py") for a in argv) and str(sockrepl_pid).encode() in argv
        if ours and not gone(int(entry)):
            found.add(int(entry))
    return found


def only_scratch_line(stderr: bytes) -> bool:
    """stderr holds nothing but the line that names the scratch directory."""
    lines = stderr.decode("utf-8", "replace").splitlines()
    return len(lines) == 1 and lines[0].startswith("sockrepl: scratch directory /tmp/")


class Live:
    """`sockrepl run -` on a pipe, fed one line at a time; every read has a deadline (no hangs, no sleeps).

    Output lines are collected by reader threads; `feed(line, n)` sends a line and returns the next n
    lines of the transcript, so a test can act (kill a worker, send a signal) between two commands.
    """

    def __init__(self, *args, argv=None, env=None):
        argv = argv or [sys.executable, "-m", "sockrepl", "run", "-", *args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out: queue.Queue = queue.Queue()
        self.err: queue.Queue = queue.Queue()
        self.stderr_lines: list[bytes] = []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()
        first = self.err_line()
        self.scratch = scratch_of(first)
        self.pids: dict[str, int] = {}
        started = self.lines(1)[0]  # a run starts as the REPL does, with p1
        assert normalize(started) == FIRST_LINE, started
        self.pids["p1"] = int(SPAWNED_PID.search(started)[1])

    @staticmethod
    def _pump(stream, sink):
        for line in iter(stream.readline, b""):
            sink.put(line)
        sink.put(None)

    def err_line(self, timeout=10.0) -> bytes:
        line = self.err.get(timeout=timeout)
        assert line is not None, "sockrepl closed its stderr"
        self.stderr_lines.append(line)
        return line

    def lines(self, n: int, timeout=10.0) -> list[str]:
        got = []
        deadline = time.monotonic() + timeout
        for _ in range(n):
            try:
                line = self.out.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out waiting for transcript lines; got {got}") from None
            assert line is not None, f"sockrepl closed its stdout; got {got}"
            got.append(line.decode("utf-8", "surrogateescape").rstrip("\n"))
        return got

    def send(self, line: str) -> None:
        self.proc.stdin.write(line.encode("utf-8", "surrogateescape") + b"\n")
        self.proc.stdin.flush()

    def feed(self, line: str, n: int = 1, timeout=10.0) -> list[str]:
        self.send(line)
        got = self.lines(n, timeout)
        if line.startswith("spawn "):
            for pids in SPAWNED.findall("\n".join(got)):
                for name, pid in re.findall(r"(\S+) \(pid (\d+)", pids):
                    self.pids[name] = int(pid)
        return got

    def finish(self, timeout=10.0) -> tuple[int, list[str], bytes]:
        """Close stdin; the exit status, the rest of the transcript, and the rest of stderr."""
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        rc = self.proc.wait(timeout)
        return rc, self.rest(timeout), self.rest_err(timeout)

    def wait_exit(self, timeout=10.0) -> tuple[int, list[str], bytes]:
        """Like `finish`, but stdin stays open until sockrepl has exited (a signal, not EOF, ends it)."""
        rc = self.proc.wait(timeout)
        rest, err = self.rest(timeout), self.rest_err(timeout)
        self.proc.stdin.close()
        return rc, rest, err

    def rest(self, timeout=10.0) -> list[str]:
        got = []
        while True:
            line = self.out.get(timeout=timeout)
            if line is None:
                return got
            got.append(line.decode("utf-8", "surrogateescape").rstrip("\n"))

    def rest_err(self, timeout=10.0) -> bytes:
        while True:
            line = self.err.get(timeout=timeout)
            if line is None:
                return b"".join(self.stderr_lines)
            self.stderr_lines.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def live():
    """Start `sockrepl run -` sessions; any still running at the end are killed."""
    started: list[Live] = []

    def start(*args, **kw) -> Live:
        session = Live(*args, **kw)
        started.append(session)
        return session

    yield start
    for session in started:
        session.kill()
