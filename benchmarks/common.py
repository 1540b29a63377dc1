"""What every benchmark section shares: the table, the configuration, child processes, checks.

Every time is wall-clock (time.perf_counter) in milliseconds. A measurement and
its floor run interleaved, round after round, so a busy moment moves both.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sockrepl.events import CallEvent, UsageError
from sockrepl.session import Session

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PANEL_TITLE = "state, from the kernel"  # drawn once the REPL's panel is up

# Child processes run as after an ordinary install: bytecode cached. It is kept out
# of the source tree (PYTHONPYCACHEPREFIX), and written even where the environment
# says not to (PYTHONDONTWRITEBYTECODE), or every start would time the compiler on
# whatever module changed since the bytecode was last written.
# The cache lives for one run (run.main() makes it, the warm-ups fill it) and is removed at the end,
# unless the caller names one in PYTHONPYCACHEPREFIX (the test suite shares its own): that one is used and kept.
CHILD_ENV = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR", "NO_COLOR")}
# ... and they run this checkout's sockrepl, whatever tree an editable install points at.
CHILD_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))])

# One cycle of non-blocking calls that leaves the fd table as it found it, as a
# sockrepl line and as the floors' request. `fcntl O_NONBLOCK on` is two
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

    def compare(self, floor: list[float], factor: float) -> None:
        """Against a floor measured in the same rounds; the target is `factor` times its median."""
        self.floor = floor
        self.target = f"<= {factor:g}x floor"
        self.check = lambda row: row.ratio is not None and row.ratio <= factor


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
    lessons: tuple[str, ...]  # the names of the lessons checked; () for all of them
    warmup: bool
    keystrokes: int  # Enter presses and wake-ups per terminal round


def config(quick: bool, runs: int | None) -> Config:
    if quick:
        return Config(runs or 2, 20, (10, 100), 1, ("phone",), False, 1)
    # 15 rounds: on this 2-core VM the launch row's median over 7 scattered from 1.03x to 1.35x, run to run
    return Config(runs or 15, 1000, (10, 100, 1000), runs or 7, (), True, 10)


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
    """`count` calls cycling through CYCLE (a script adds `spawn a` in front)."""
    return [CYCLE[i % len(CYCLE)] for i in range(count)]


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
