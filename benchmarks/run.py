"""sockrepl benchmarks: startup, keystrokes in a terminal, per-command cost, wake-up, snapshot + panel, lessons.

    python benchmarks/run.py            # 15 runs each (lessons 7), full sizes
    python benchmarks/run.py --quick    # 2 runs, tiny sizes, one lesson (a smoke test, a few seconds)

Prints one table: name, median, min, floor (median), ratio median/floor, target,
verdict. Every time is in milliseconds (per command where the name says so).
A floor is what the same work costs without sockrepl: a bare interpreter, the
imports the REPL cannot avoid, a bare prompt_toolkit prompt, a forked child doing
the same socket calls over a 1-byte pipe, the raw kernel reads. The exit status is
0 even when a target is missed (the row says MISS); it is 1 only when something
could not be measured at all.

Stdlib only, plus pexpect and pyte for the pseudo-terminal rows. The sections live
in the modules next to this file.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import CHILD_ENV, PYTHON, Config, Row, config, find_sockrepl, table  # noqa: E402
from benchmarks.kernel_side import bench_lessons, bench_outside_peers, bench_sockets, bench_wakeup  # noqa: E402
from benchmarks.keystrokes import bench_keystrokes  # noqa: E402
from benchmarks.per_command import bench_in_process, bench_per_command  # noqa: E402
from benchmarks.startup import bench_startup  # noqa: E402
from sockrepl import kernel  # noqa: E402


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
        "floor-echo": "keystroke: floor: bare prompt + 8-line toolbar, Enter -> echo on screen (pty 80x24)",
        "floor-settled": "keystroke: floor: Enter -> screen settled",
        "enter": "keystroke: Enter -> the call's result on screen (pty 80x24)",
        "enter-settled": "keystroke: Enter -> screen settled (result + panel)",
        "wake": "keystroke: outside connect -> <... accept resumed> on screen (pty 80x24)",
        "wake-settled": "keystroke: outside connect -> screen settled",
        "floor-call": "per-command: floor: 1 call over a 1-byte pipe, forked child (ms/cmd)",
        "run": f"per-command: sockrepl run, {n}-line script, spawn excluded (ms/cmd)",
        "inproc": "per-command: in-process run_line (ms/cmd)",
        "inproc+panel": "per-command: in-process run_line + snapshot + panel 80x12 (ms/cmd)",
        "wakeup": "wake-up: connect -> <... accept resumed> (in-process)",
    }
    for size in cfg.sizes:
        rows[f"snapshot{size}"] = f"sockets {size}: snapshot()"
        rows[f"panel{size}"] = f"sockets {size}: panel_lines 80x12"
        rows[f"both{size}"] = f"sockets {size}: snapshot + panel 80x12"
        rows[f"all{size}"] = f"sockets {size}: panel_lines all (as `state`)"
    rows["outside-first"] = "outside peers 10: snapshot that scans /proc/*/fd for holders"
    rows["outside-later"] = "outside peers 10: later snapshot (holders kept, re-checked)"
    rows["lessons"] = f"lessons: sockrepl lesson --check ({', '.join(cfg.lessons) or 'all'})"
    return rows


def row_names(quick: bool = False) -> list[str]:
    """Every row the table prints, in order (the smoke test checks them)."""
    return list(row_table(config(quick, None)).values())


def machine() -> str:
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, Linux {platform.release()}, "
            f"{len(kernel.read_unix_sockets().sockets)} AF_UNIX sockets on the machine, "
            f"load average {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    given = os.environ.get("PYTHONPYCACHEPREFIX")  # the caller's (the test suite's): filled already, kept
    cache = given or tempfile.mkdtemp(prefix="sockrepl-bench-pycache-")
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = cache
    try:
        return measure_all(argv)
    finally:
        if not given:
            shutil.rmtree(cache, ignore_errors=True)


def measure_all(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs, tiny sizes, one lesson (a smoke test)")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 15, lessons 7; --quick: 2)")
    args = parser.parse_args(argv)
    cfg = config(args.quick, args.runs)
    rows = {key: Row(name) for key, name in row_table(cfg).items()}
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
                rows[key].error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        else:
            if note:
                notes.append(note)

    section(["pass", "imports", "version", "empty", "prompt", "prompt+panel"], bench_startup, cfg, sockrepl, rows)
    section(["floor-echo", "floor-settled", "enter", "enter-settled", "wake", "wake-settled"],
            bench_keystrokes, cfg, sockrepl, rows)
    section(["floor-call", "run"], bench_per_command, cfg, sockrepl, rows)
    section(["inproc", "inproc+panel"], bench_in_process, cfg, rows)
    section(["wakeup"], bench_wakeup, cfg, rows)
    for n in cfg.sizes:
        section([f"{what}{n}" for what in ("snapshot", "panel", "both", "all")], bench_sockets, cfg, rows, n)
    section(["outside-first", "outside-later"], bench_outside_peers, cfg, rows)
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
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{len(ordered)} rows in {time.perf_counter() - started:.1f} s; "
          f"{misses} MISS, {len(errors)} could not be measured")
    for row in errors:
        print(f"  ERROR {row.name}: {row.error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
