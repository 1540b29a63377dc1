"""In-process measurements of the session against the kernel: wake-up, snapshots, lessons."""

import contextlib
import os
import resource
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import CHILD_ENV, ROOT, Config, Row, below_ms, run_checked
from benchmarks.floors import FloorWorker
from sockrepl import kernel
from sockrepl.events import CallEvent
from sockrepl.holders import Holders
from sockrepl.panel import panel_lines
from sockrepl.session import Session

# ---- wake-up ----------------------------------------------------------------


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
    row.compare(wakeup_floor(cfg), 3)


# ---- snapshot + panel with N sockets -------------------------------------------


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


OUTSIDE_PEERS = 10


def proc_scan_floor() -> float:
    """What `ss -p` reads to name holders: every /proc/PID/fd link on the machine."""
    start = time.perf_counter()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{entry}/fd"):
                    with contextlib.suppress(OSError):
                        os.readlink(f"/proc/{entry}/fd/{fd}")
    return (time.perf_counter() - start) * 1000


def bench_outside_peers(cfg: Config, rows: dict[str, Row]) -> None:
    """A listener with connections from this process (outside the session): the snapshot that scans
    /proc for their holders, and the later ones that find them kept."""
    first, later = rows["outside-first"], rows["outside-later"]
    session = Session()
    callers = []
    try:
        for line in ("spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock",
                     f"listen 3 {OUTSIDE_PEERS}"):
            run_checked(session, line)
        for _ in range(OUTSIDE_PEERS):
            callers.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            callers[-1].connect(str(session.scratch / "srv.sock"))
            run_checked(session, "accept 3")
        floors = []
        for _ in range(cfg.runs):
            floors.append(proc_scan_floor())
            session.holders = Holders()
            t0 = time.perf_counter()
            snapshot = session.snapshot()
            t1 = time.perf_counter()
            session.snapshot()
            t2 = time.perf_counter()
            if sum(view.peer_process is not None for proc in snapshot.processes for view in proc.fds) != OUTSIDE_PEERS:
                raise RuntimeError("the holders of the outside peers were not found")
            first.samples.append((t1 - t0) * 1000)
            later.samples.append((t2 - t1) * 1000)
    finally:
        for caller in callers:
            caller.close()
        session.close()
    first.floor = floors
    for row in (first, later):
        row.target, row.check = "< 50 ms", below_ms(50, strict=True)


# ---- lessons ----------------------------------------------------------------


def bench_lessons(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> str:
    """Wall time of checking every lesson (--quick: one); a failing lesson is reported, its time still counts."""
    # by path: this checkout's lessons, not those of wherever the package is installed from
    lessons = sorted(str(p) for p in (ROOT / "lessons").glob("*.md")
                     if p.name != "README.md" and (not cfg.lessons or p.stem in cfg.lessons))
    samples, failures, checked = [], set(), 0
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
