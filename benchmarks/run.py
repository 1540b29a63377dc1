"""sockrepl benchmarks: startup, per-command latency, wake-up, snapshot + panel, lessons.

    python benchmarks/run.py            # 7 runs each, full sizes
    python benchmarks/run.py --quick    # 2 runs, tiny sizes (a smoke test, a few seconds)

Prints one table: name, median, min, floor (median), ratio median/floor, target,
verdict. Every time is in milliseconds (per command where the name says so).
A floor is what the same work costs without sockrepl: a bare interpreter, the
imports the REPL cannot avoid, one Python worker answering JSON lines over a pipe,
the raw kernel reads. The exit status is 0 even when a target is missed (the row
says MISS); it is 1 only when something could not be measured at all.

Stdlib only, plus pexpect for the pseudo-terminal row. Times come from
time.perf_counter around subprocess runs or in-process calls.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sockrepl import kernel  # noqa: E402
from sockrepl.events import CallEvent, UsageError  # noqa: E402
from sockrepl.panel import panel_lines  # noqa: E402
from sockrepl.session import Session  # noqa: E402

PYTHON = sys.executable

# Child processes run as after an ordinary install: bytecode cached. It is kept out
# of the source tree (PYTHONPYCACHEPREFIX), and written even where the environment
# says not to (PYTHONDONTWRITEBYTECODE), or every start would time the compiler on
# whatever module changed since the bytecode was last written.
# The cache lives for one run (main() makes it, the warm-ups fill it) and is removed at the end.
CHILD_ENV = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR", "NO_COLOR")}
# ... and they run this checkout's sockrepl, whatever tree an editable install points at.
CHILD_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))])

# One cycle of non-blocking calls that leaves the fd table as it found it, as a
# sockrepl line and as the floor worker's request. `fcntl O_NONBLOCK on` is two
# syscalls in both (F_GETFL, then F_SETFL).
CYCLE = [
    ("socket AF_UNIX SOCK_STREAM", {"op": "socket"}),
    ("getsockname 3", {"op": "getsockname", "fd": 3}),
    ("fcntl 3 O_NONBLOCK on", {"op": "fcntl", "fd": 3}),
    ("socketpair AF_UNIX SOCK_STREAM", {"op": "socketpair"}),
    ("getsockopt 4 SO_TYPE", {"op": "getsockopt", "fd": 4}),
    ("close 5", {"op": "close", "fd": 5}),
    ("close 4", {"op": "close", "fd": 4}),
    ("close 3", {"op": "close", "fd": 3}),
]

# The floor's worker: a plain `python -c` child, JSON lines in and out, each call
# done with the socket module (the same -I -S flags sockrepl gives its workers).
FLOOR_WORKER = r"""
import fcntl, json, os, socket, sys
socks = {}
def keep(s):
    socks[s.fileno()] = s
    return s.fileno()
def call(r):
    op = r["op"]
    if op == "socket":
        return keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    if op == "socketpair":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        return [keep(a), keep(b)]
    fd = r["fd"]
    s = socks[fd]
    if op == "getsockname":
        return s.getsockname()
    if op == "getsockopt":
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
    if op == "fcntl":
        return fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    if op == "close":
        socks.pop(fd).close()
        return 0
    if op == "bind":
        s.bind(r["addr"])
        return 0
    if op == "listen":
        s.listen(r["backlog"])
        return 0
    if op == "accept":
        return keep(s.accept()[0])
    if op == "connect":
        s.connect(r["addr"])
        return 0
    raise ValueError(op)
stdin = sys.stdin.buffer
os.write(1, b'{"hello":1}\n')
while True:
    line = stdin.readline()
    if not line:
        break
    try:
        reply = {"ret": call(json.loads(line))}
    except OSError as e:
        reply = {"ret": -1, "errno": e.errno}
    os.write(1, (json.dumps(reply, separators=(",", ":")) + "\n").encode())
"""

PROMPT = re.compile(r"p1(?:\x1b\[[0-9;?]*[A-Za-z])*>")  # "p1> " as drawn: styles between the characters
CPR_REQUEST = re.escape("\x1b[6n")  # prompt_toolkit asks where the cursor is; a real terminal answers
PANEL_TITLE = "state, from the kernel"


# ---- the table ---------------------------------------------------------------


@dataclass
class Row:
    name: str
    samples: list[float] = field(default_factory=list)  # ms
    floor: list[float] | None = None  # ms
    target: str = "-"
    check: Callable[["Row"], bool] | None = None
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor) if self.floor else None

    @property
    def ratio(self) -> float | None:
        f = self.floor_median
        return self.median / f if f else None

    @property
    def verdict(self) -> str:
        if self.error or not self.samples:
            return "ERROR"
        if self.check is None:
            return "-"
        return "ok" if self.check(self) else "MISS"


def at_most_times_floor(factor: float):
    return lambda row: row.ratio is not None and row.ratio <= factor


def below_ms(limit: float, strict: bool = False):
    return lambda row: row.median < limit if strict else row.median <= limit


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: list[Row]) -> str:
    header = ["name", "median ms", "min ms", "floor ms (median)", "ratio", "target", "verdict"]
    body = []
    for row in rows:
        if row.samples and not row.error:
            cells = [row.name, ms(row.median), ms(min(row.samples)), ms(row.floor_median),
                     "-" if row.ratio is None else f"{row.ratio:.2f}x", row.target, row.verdict]
        else:
            cells = [row.name, "-", "-", "-", "-", row.target, row.verdict]
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    right = {1, 2, 3, 4}

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in body])


# ---- configuration -----------------------------------------------------------


@dataclass(frozen=True)
class Config:
    runs: int
    script_lines: int
    sizes: tuple[int, ...]
    lesson_runs: int
    warmup: bool


def config(quick: bool, runs: int | None) -> Config:
    if quick:
        return Config(runs or 2, 20, (10, 100), 1, False)
    return Config(runs or 7, 200, (10, 100, 1000), runs or 7, True)


def row_table(cfg: Config) -> dict[str, str]:
    """key -> row name, in table order."""
    n = cfg.script_lines
    rows = {
        "pass": "startup: floor: python -c pass",
        "imports": "startup: floor: python -c 'import prompt_toolkit, rich'",
        "version": "startup: sockrepl --version",
        "empty": "startup: sockrepl run /dev/null",
        "prompt": "startup: launch -> first prompt (pty)",
        "prompt+panel": "startup: launch -> prompt + state panel (pty)",
        "floor-script": f"per-command: floor: start 1 python worker + {n - 1} calls over a pipe (ms/cmd)",
        "floor-call": "per-command: floor: 1 call over a pipe, worker running (ms/cmd)",
        "run": f"per-command: sockrepl run, {n}-line script (ms/cmd)",
        "inproc": "per-command: in-process run_line (ms/cmd)",
        "inproc+panel": "per-command: in-process run_line + snapshot + panel 80x12 (ms/cmd)",
        "wakeup": "wake-up: connect -> <... accept resumed> (in-process)",
    }
    for size in cfg.sizes:
        rows[f"snapshot{size}"] = f"sockets {size}: snapshot()"
        rows[f"panel{size}"] = f"sockets {size}: panel_lines 80x12"
        rows[f"both{size}"] = f"sockets {size}: snapshot + panel 80x12"
        rows[f"all{size}"] = f"sockets {size}: panel_lines all (as `state`)"
    rows["lessons"] = "lessons: sockrepl lesson --check (all)"
    return rows


def row_names(quick: bool = False) -> list[str]:
    """Every row the table prints, in order (the smoke test checks them)."""
    return list(row_table(config(quick, None)).values())


def find_sockrepl() -> str:
    """The console script next to this interpreter (no version-manager shim in between)."""
    beside = Path(PYTHON).parent / "sockrepl"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("sockrepl")
    if not found:
        raise SystemExit("benchmarks: the sockrepl command is not installed (pip install -e '.[test]')")
    return found


# ---- helpers -----------------------------------------------------------------


def timed_process(argv: list[str]) -> float:
    """Wall time of one run to exit, in ms; raises if it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=CHILD_ENV)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.decode()[-300:]}")
    return elapsed * 1000


def interleaved(cfg: Config, measures: dict[str, Callable[[], object]]) -> dict[str, list]:
    """Run each measure once per round, round after round: a measurement and its floor
    see the same machine, so a busy moment shifts both rather than the ratio."""
    if cfg.warmup:
        for measure in measures.values():
            measure()
    samples: dict[str, list] = {key: [] for key in measures}
    for _ in range(cfg.runs):
        for key, measure in measures.items():
            samples[key].append(measure())
    return samples


def script_lines(count: int) -> list[tuple[str, dict]]:
    """`count` calls cycling through CYCLE (the script adds `spawn a` in front)."""
    return [CYCLE[i % len(CYCLE)] for i in range(count)]


class FloorWorker:
    """The floor's worker process: blocking pipe I/O, no polling, no /proc."""

    def __init__(self, cwd: str):
        self.proc = subprocess.Popen([PYTHON, "-I", "-S", "-c", FLOOR_WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=cwd, bufsize=0)
        self.out = self.proc.stdout
        self.fd = self.proc.stdin.fileno()
        if b"hello" not in self.out.readline():
            raise RuntimeError("floor worker did not start")

    def send(self, request: dict) -> None:
        os.write(self.fd, (json.dumps(request, separators=(",", ":")) + "\n").encode())

    def reply(self) -> dict:
        return json.loads(self.out.readline())

    def call(self, request: dict) -> dict:
        self.send(request)
        reply = self.reply()
        if reply["ret"] == -1:
            raise RuntimeError(f"floor worker: {request} failed with errno {reply.get('errno')}")
        return reply

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=5)
        self.out.close()


def check_events(line: str, events) -> None:
    for event in events:
        if isinstance(event, UsageError):
            raise RuntimeError(f"{line!r}: usage error: {event}")
        if isinstance(event, CallEvent) and (event.phase != "done" or (event.outcome and event.outcome.failed)):
            raise RuntimeError(f"{line!r}: unexpected {event.phase} {event.outcome}")


def run_checked(session: Session, line: str):
    events = session.run_line(line)
    check_events(line, events)
    return events


# ---- 1. startup --------------------------------------------------------------


def pty_launch(sockrepl: str) -> tuple[float, float]:
    """ms from spawn to the first drawn prompt, and to the prompt with the state panel below it."""
    import pexpect

    env = dict(CHILD_ENV, TERM="xterm-256color")
    start = time.perf_counter()
    child = pexpect.spawn(sockrepl, dimensions=(24, 80), env=env, encoding="utf-8",
                          codec_errors="replace", timeout=20)
    child.delaybeforesend = 0
    try:
        first = panel = None
        while panel is None:
            index = child.expect([CPR_REQUEST, PROMPT, PANEL_TITLE])
            now = time.perf_counter()
            if index == 0:
                child.send("\x1b[1;1R")  # answer the cursor position request, as a terminal does
            elif index == 1 and first is None:
                first = now
            elif index == 2:
                panel = now
        if first is None:
            first = panel
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    if child.exitstatus != 0:
        raise RuntimeError(f"sockrepl exited with {child.exitstatus} / signal {child.signalstatus} after Ctrl-D")
    return (first - start) * 1000, (panel - start) * 1000


def bench_startup(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> None:
    measures = {
        "pass": lambda: timed_process([PYTHON, "-c", "pass"]),
        "imports": lambda: timed_process([PYTHON, "-c", "import prompt_toolkit, rich"]),
        "version": lambda: timed_process([sockrepl, "--version"]),
        "empty": lambda: timed_process([sockrepl, "run", "/dev/null"]),
    }
    try:
        import pexpect  # noqa: F401
    except ImportError:
        rows["prompt"].error = rows["prompt+panel"].error = "pexpect is not installed"
    else:
        measures["pty"] = lambda: pty_launch(sockrepl)
    samples = interleaved(cfg, measures)
    for key in ("pass", "imports", "version", "empty"):
        rows[key].samples = samples[key]
    rows["version"].floor = rows["empty"].floor = samples["pass"]
    if "pty" in samples:
        rows["prompt"].samples = [first for first, _ in samples["pty"]]
        rows["prompt+panel"].samples = [panel for _, panel in samples["pty"]]
        rows["prompt"].floor = rows["prompt+panel"].floor = samples["imports"]
        rows["prompt"].target, rows["prompt"].check = "<= 1.5x floor", at_most_times_floor(1.5)


# ---- 2. per-command latency ------------------------------------------------------


def bench_per_command(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> None:
    """`sockrepl run` of the script as a user runs it, minus the empty script's startup,
    against the floor: one plain worker started and driven with blocking pipe I/O."""
    calls = script_lines(cfg.script_lines - 1)
    count = len(calls) + 1  # every line of the script, `spawn a` included

    def floor_once() -> tuple[float, float]:
        with tempfile.TemporaryDirectory(prefix="sockrepl-bench-") as cwd:
            start = time.perf_counter()
            worker = FloorWorker(cwd)
            started = time.perf_counter()
            for _, request in calls:
                worker.call(request)
            end = time.perf_counter()
            worker.close()
        # per line of the script (the worker's start included), and per call alone
        return (end - start) * 1000 / count, (end - started) * 1000 / len(calls)

    with tempfile.NamedTemporaryFile("w", suffix=".sockrepl", delete=False) as f:
        f.write("spawn a\n" + "".join(line + "\n" for line, _ in calls))
        path = f.name
    try:
        check = subprocess.run([sockrepl, "run", path], capture_output=True, text=True, env=CHILD_ENV)
        if check.returncode != 0 or " = -1 " in check.stdout or len(check.stdout.splitlines()) < count:
            raise RuntimeError(f"the benchmark script did not run cleanly:\n{check.stdout[-500:]}{check.stderr}")
        samples = interleaved(cfg, {
            "floor": floor_once,
            "script": lambda: timed_process([sockrepl, "run", path]),
            "empty": lambda: timed_process([sockrepl, "run", "/dev/null"]),
        })
    finally:
        os.unlink(path)
    rows["floor-script"].samples = [whole for whole, _ in samples["floor"]]
    rows["floor-call"].samples = [call for _, call in samples["floor"]]
    empty = statistics.median(samples["empty"])
    rows["run"].samples = [(script - empty) / count for script in samples["script"]]
    rows["run"].floor = rows["floor-script"].samples
    rows["run"].target, rows["run"].check = "<= 3x floor", at_most_times_floor(3)


def bench_in_process(cfg: Config, rows: dict[str, Row]) -> None:
    """What the REPL does per line: run_line, then snapshot + the 80x12 panel."""
    calls = script_lines(cfg.script_lines - 1)

    def once(with_panel: bool) -> float:
        session = Session()
        try:
            run_checked(session, "spawn a")
            total = 0.0
            for line, _ in calls:
                start = time.perf_counter()
                events = session.run_line(line)
                if with_panel:
                    panel_lines(session.snapshot(), 80, 12)
                total += time.perf_counter() - start
                check_events(line, events)
        finally:
            session.close()
        return total * 1000 / len(calls)

    once(True)  # imports and first-use caches, never timed
    samples = interleaved(cfg, {"inproc": lambda: once(False), "inproc+panel": lambda: once(True)})
    rows["inproc"].samples, rows["inproc+panel"].samples = samples["inproc"], samples["inproc+panel"]
    for key in ("inproc", "inproc+panel"):
        rows[key].floor = rows["floor-call"].samples or None
    rows["inproc+panel"].target, rows["inproc+panel"].check = "<= 10 ms", below_ms(10)


# ---- 3. wake-up ----------------------------------------------------------------


def wakeup_floor(cfg: Config) -> list[float]:
    """Two plain workers: A asleep in accept, B connects; until both replies are in."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="sockrepl-bench-") as cwd:
        a, b = FloorWorker(cwd), FloorWorker(cwd)
        try:
            a.call({"op": "socket"})
            a.call({"op": "bind", "fd": 3, "addr": "srv.sock"})
            a.call({"op": "listen", "fd": 3, "backlog": 5})
            for _ in range(cfg.runs + 1):
                a.send({"op": "accept", "fd": 3})
                b.call({"op": "socket"})
                time.sleep(0.02)  # A is asleep in accept long before this
                start = time.perf_counter()
                b.call({"op": "connect", "fd": 3, "addr": "srv.sock"})
                accepted = a.reply()
                samples.append((time.perf_counter() - start) * 1000)
                if accepted["ret"] == -1:
                    raise RuntimeError("floor accept failed")
                a.call({"op": "close", "fd": accepted["ret"]})
                b.call({"op": "close", "fd": 3})
        finally:
            a.close()
            b.close()
    return samples[1:]  # the first one warms up


def bench_wakeup(cfg: Config, rows: dict[str, Row]) -> None:
    """Server blocked in accept; `client: connect` until the events hold `<... accept resumed>`."""
    row = rows["wakeup"]
    session = Session()
    try:
        for line in ("spawn server client", "server: socket AF_UNIX SOCK_STREAM", "server: bind 3 srv.sock",
                     "server: listen 3 5"):
            run_checked(session, line)
        samples = []
        for _ in range(cfg.runs + 1):
            events = session.run_line("server: accept 3")
            if not any(isinstance(e, CallEvent) and e.phase == "unfinished" for e in events):
                raise RuntimeError(f"accept did not block: {events}")
            run_checked(session, "client: socket AF_UNIX SOCK_STREAM")
            start = time.perf_counter()
            events = session.run_line("client: connect 3 srv.sock")
            deadline = start + 5
            while not any(isinstance(e, CallEvent) and e.phase == "resumed" for e in events):
                if time.perf_counter() > deadline:
                    raise RuntimeError("accept never resumed")
                events += session.poll()
            samples.append((time.perf_counter() - start) * 1000)
            run_checked(session, "server: close 4")
            run_checked(session, "client: close 3")
        row.samples = samples[1:]  # the first one warms up
    finally:
        session.close()
    row.floor = wakeup_floor(cfg)
    row.target, row.check = "<= 3x floor", at_most_times_floor(3)


# ---- 4. snapshot + panel with N sockets -------------------------------------------


def raise_fd_limit(needed: int) -> None:
    """The soft RLIMIT_NOFILE, raised in this process before the worker starts: it inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def kernel_floor(pid: int) -> float:
    """The raw kernel reads a snapshot cannot avoid: one sock_diag dump, /proc/PID/fd."""
    start = time.perf_counter()
    kernel.read_unix_sockets()
    base = f"/proc/{pid}/fd"
    for entry in os.listdir(base):
        with contextlib.suppress(OSError):
            os.readlink(f"{base}/{entry}")
    return (time.perf_counter() - start) * 1000


def bench_sockets(cfg: Config, rows: dict[str, Row], n: int) -> None:
    r_snap, r_panel, r_both, r_all = (rows[f"{what}{n}"] for what in ("snapshot", "panel", "both", "all"))
    raise_fd_limit(n + 256)
    session = Session()
    try:
        run_checked(session, "spawn a")
        for _ in range(n // 2):
            run_checked(session, "socketpair AF_UNIX SOCK_STREAM")
        pid = session.workers["a"].pid
        snapshot = session.snapshot()
        sockets = sum(len(p.fds) for p in snapshot.processes)
        if sockets != n:
            raise RuntimeError(f"expected {n} sockets in the snapshot, found {sockets}")
        panel_lines(snapshot, 80, 12)
        panel_lines(snapshot, 200, 10**6)
        floors = []
        for _ in range(cfg.runs):
            floors.append(kernel_floor(pid))
            t0 = time.perf_counter()
            snapshot = session.snapshot()
            t1 = time.perf_counter()
            panel_lines(snapshot, 80, 12)
            t2 = time.perf_counter()
            panel_lines(snapshot, 200, 10**6)
            t3 = time.perf_counter()
            r_snap.samples.append((t1 - t0) * 1000)
            r_panel.samples.append((t2 - t1) * 1000)
            r_both.samples.append((t2 - t0) * 1000)
            r_all.samples.append((t3 - t2) * 1000)
    finally:
        session.close()
    r_snap.floor = r_both.floor = floors
    r_both.target, r_both.check = "< 50 ms", below_ms(50, strict=True)


# ---- 5. lessons ----------------------------------------------------------------


def bench_lessons(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> str:
    """Wall time of checking every lesson; a failing lesson is reported, its time still counts."""
    # by path: this checkout's lessons, not those of wherever the package is installed from
    lessons = sorted(str(p) for p in (ROOT / "lessons").glob("*.md") if p.name != "README.md")
    samples, failures = [], set()
    for _ in range(cfg.lesson_runs):
        start = time.perf_counter()
        done = subprocess.run([sockrepl, "lesson", "--check", *lessons], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, env=CHILD_ENV)
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"sockrepl lesson --check exited with {done.returncode}: {done.stderr[-300:]}")
        failures.update(Path(line.split()[1]).stem for line in done.stdout.splitlines() if line.startswith("FAIL "))
        checked = sum(1 for line in done.stdout.splitlines() if line.startswith(("PASS ", "FAIL ")))
    rows["lessons"].samples = samples
    rows["lessons"].target, rows["lessons"].check = "< 10 s", below_ms(10_000, strict=True)
    note = f"lessons: {checked} checked"
    if failures:
        note += f"; failing (timed all the same): {', '.join(sorted(failures))}"
    return note


# ---- main ------------------------------------------------------------------------


def machine() -> str:
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, Linux {platform.release()}, "
            f"{len(kernel.read_unix_sockets().sockets)} AF_UNIX sockets on the machine, "
            f"load average {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    cache = tempfile.mkdtemp(prefix="sockrepl-bench-pycache-")
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = cache
    try:
        return measure_all(argv)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def measure_all(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs and tiny sizes (a smoke test)")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 7; --quick: 2)")
    args = parser.parse_args(argv)
    cfg = config(args.quick, args.runs)
    names = row_table(cfg)
    rows = {key: Row(name) for key, name in names.items()}
    sockrepl = find_sockrepl()
    imported = subprocess.run([PYTHON, "-c", "import sockrepl; print(sockrepl.__file__)"], env=CHILD_ENV,
                              capture_output=True, text=True).stdout.strip()
    if Path(imported).resolve().parent != ROOT / "sockrepl":
        raise SystemExit(f"benchmarks: child processes import sockrepl from {imported}, not from {ROOT}")
    # fill the bytecode cache once (a no-op when it is current): no run below times the compiler
    for warm in ([PYTHON, "-c", "import prompt_toolkit, rich"], [sockrepl, "--version"],
                 [PYTHON, "-c", "import sockrepl.repl, sockrepl.batch, sockrepl.lessons_cli"]):
        subprocess.run(warm, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"sockrepl benchmarks{' (--quick)' if args.quick else ''}: {cfg.runs} runs each; {machine()}")
    print(f"sockrepl: {sockrepl}; python: {PYTHON}; "
          f"bytecode cache for child processes: {CHILD_ENV['PYTHONPYCACHEPREFIX']}")
    print()
    started = time.perf_counter()
    notes = []

    def section(keys: list[str], fn, *fn_args):
        try:
            note = fn(*fn_args)
        except Exception as error:  # report it in the table, carry on with the rest
            traceback.print_exc(file=sys.stderr)
            for key in keys:
                rows[key].error = f"{type(error).__name__}: {error}"
        else:
            if note:
                notes.append(note)

    section(["pass", "imports", "version", "empty", "prompt", "prompt+panel"], bench_startup, cfg, sockrepl, rows)
    section(["floor-script", "floor-call", "run"], bench_per_command, cfg, sockrepl, rows)
    section(["inproc", "inproc+panel"], bench_in_process, cfg, rows)
    section(["wakeup"], bench_wakeup, cfg, rows)
    for n in cfg.sizes:
        section([f"{what}{n}" for what in ("snapshot", "panel", "both", "all")], bench_sockets, cfg, rows, n)
    section(["lessons"], bench_lessons, cfg, sockrepl, rows)

    ordered = list(rows.values())
    for row in ordered:
        if not row.samples and not row.error:
            row.error = "not measured"  # a bug of this script: say so rather than print a blank
    print(table(ordered))
    print()
    misses = sum(1 for r in ordered if r.verdict == "MISS")
    errors = [r for r in ordered if r.verdict == "ERROR"]
    for note in notes:
        print(note)
    print(f"{len(ordered)} rows in {time.perf_counter() - started:.1f} s; "
          f"{misses} MISS, {len(errors)} could not be measured")
    for row in errors:
        print(f"  ERROR {row.name}: {row.error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
