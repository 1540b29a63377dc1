"""Per-command cost: `sockrepl run` of a long script, and the REPL's per-line work in-process.

Both against the 1-byte pipe floor: a forked child doing the same socket calls.
"""

import os
import subprocess
import tempfile
import time

from benchmarks.common import (
    CHILD_ENV,
    Config,
    Row,
    below_ms,
    check_events,
    interleaved,
    run_checked,
    script_lines,
    timed_process,
)
from benchmarks.floors import PipeChild
from sockrepl.panel import panel_lines
from sockrepl.session import Session


def pipe_floor(count: int) -> float:
    """ms per call: `count` calls cycling through CYCLE in a forked child, 1 byte each way."""
    child = PipeChild()
    try:
        start = time.perf_counter()
        for i in range(count):
            child.call(i % 8)
        elapsed = time.perf_counter() - start
    finally:
        child.close()
    return elapsed * 1000 / count


def _script(calls: list[tuple[str, dict]]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".sockrepl", delete=False) as f:
        f.write("spawn a\n" + "".join(line + "\n" for line, _ in calls))
    return f.name


def bench_per_command(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> None:
    """`sockrepl run` of `spawn a` + N calls minus `sockrepl run` of `spawn a` alone, per call,
    as a user runs it; against the pipe floor doing the same N calls."""
    calls = script_lines(cfg.script_lines)
    long, short = _script(calls), _script([])
    try:
        check = subprocess.run([sockrepl, "run", long], capture_output=True, text=True, env=CHILD_ENV)
        if check.returncode != 0 or " = -1 " in check.stdout or len(check.stdout.splitlines()) < len(calls) + 1:
            raise RuntimeError(f"the benchmark script did not run cleanly:\n{check.stdout[-500:]}{check.stderr}")
        samples = interleaved(cfg, {
            "floor": lambda: pipe_floor(len(calls)),
            "script": lambda: timed_process([sockrepl, "run", long]),
            "spawn": lambda: timed_process([sockrepl, "run", short]),
        })
    finally:
        os.unlink(long)
        os.unlink(short)
    rows["floor-call"].samples = samples["floor"]
    rows["run"].samples = [(script - spawn) / len(calls)
                           for script, spawn in zip(samples["script"], samples["spawn"], strict=True)]
    rows["run"].compare(samples["floor"], 10)


def bench_in_process(cfg: Config, rows: dict[str, Row]) -> None:
    """What the REPL does per line: run_line, then snapshot + the 80x12 panel."""
    calls = script_lines(min(cfg.script_lines, 200))

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
    samples = interleaved(cfg, {"inproc": lambda: once(False), "inproc+panel": lambda: once(True),
                                "floor": lambda: pipe_floor(len(calls))})
    rows["inproc"].samples, rows["inproc+panel"].samples = samples["inproc"], samples["inproc+panel"]
    for key in ("inproc", "inproc+panel"):
        rows[key].floor = samples["floor"]
    rows["inproc+panel"].target, rows["inproc+panel"].check = "<= 10 ms", below_ms(10)
