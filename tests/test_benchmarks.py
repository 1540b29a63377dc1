"""The benchmark script runs end to end (`--quick --runs 1`: one sample of each) and prints every row.

A smoke test only: no assertion on any timing, so it cannot flake on a busy
machine. The numbers themselves are in benchmarks/RESULTS.md.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
VERDICTS = {"ok", "MISS", "-"}


def load_script():
    spec = importlib.util.spec_from_file_location("sockrepl_benchmarks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run():
    return subprocess.run([sys.executable, str(SCRIPT), "--quick", "--runs", "1"], capture_output=True, text=True,
                          timeout=180)


def test_quick_run_exits_zero(quick_run):
    assert quick_run.returncode == 0, quick_run.stdout + quick_run.stderr


def test_quick_run_prints_every_row_with_a_verdict(quick_run):
    rows = {}
    for line in quick_run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 7:
            rows[cells[0]] = cells
    names = load_script().row_names(quick=True)
    assert len(names) == len(set(names))
    for name in names:
        assert name in rows, f"row {name!r} missing from:\n{quick_run.stdout}"
        assert rows[name][6] in VERDICTS, rows[name]


def test_quick_run_covers_every_measurement():
    names = "\n".join(load_script().row_names(quick=True))
    for what in ("sockrepl --version", "sockrepl run /dev/null", "first prompt (pty)",
                 "python -c 'import prompt_toolkit, rich'", "python -c pass",
                 "bare prompt + 8-line toolbar, Enter -> echo", "Enter -> the call's result on screen",
                 "outside connect -> <... accept resumed> on screen",
                 "sockrepl run, 20-line script", "1 call over a 1-byte pipe", "snapshot + panel 80x12",
                 "accept resumed> (in-process)", "sockets 10: snapshot()", "sockets 100: panel_lines all",
                 "lesson --check"):
        assert what in names, what
