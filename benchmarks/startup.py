"""Start-up: the interpreter, the imports, `sockrepl --version`, `run /dev/null`, launch -> prompt."""

from benchmarks.common import CHILD_ENV, PANEL_TITLE, PYTHON, Config, Row, interleaved, timed_process
from benchmarks.terminal import Terminal


def pty_launch(sockrepl: str) -> tuple[float, float]:
    """ms from spawn to the first drawn prompt, and to the prompt with the state panel below it."""
    term = Terminal([sockrepl], dict(CHILD_ENV, TERM="xterm-256color"))
    try:
        first = term.until(r"p1>")
        panel = term.until(PANEL_TITLE)
    finally:
        status = term.quit()
    if status != 0:
        raise RuntimeError(f"sockrepl exited with {status} after Ctrl-D")
    return (first - term.started) * 1000, (panel - term.started) * 1000


def bench_startup(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> None:
    samples = interleaved(cfg, {
        "pass": lambda: timed_process([PYTHON, "-c", "pass"]),
        "imports": lambda: timed_process([PYTHON, "-c", "import prompt_toolkit, rich"]),
        "version": lambda: timed_process([sockrepl, "--version"]),
        "empty": lambda: timed_process([sockrepl, "run", "/dev/null"]),
        "pty": lambda: pty_launch(sockrepl),
    })
    for key in ("pass", "imports", "version", "empty"):
        rows[key].samples = samples[key]
    rows["version"].floor = rows["empty"].floor = samples["pass"]
    rows["prompt"].samples = [first for first, _ in samples["pty"]]
    rows["prompt+panel"].samples = [panel for _, panel in samples["pty"]]
    rows["prompt"].compare(samples["imports"], 1.2)
    rows["prompt+panel"].floor = samples["imports"]
