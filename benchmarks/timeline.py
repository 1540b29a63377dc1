"""Where a keystroke's time goes: sockrepl in a pty, with timestamps around the functions on the path.

    python benchmarks/timeline.py [--keystrokes N]

Runs this checkout's sockrepl in a pty at 80x24 with wrappers installed from
outside (the product code carries no timers), presses Enter on alternating lines
and lets a program outside sockrepl wake a blocked accept, N times each, then
prints the median ms of each stage. Both processes read the same clock
(perf_counter is CLOCK_MONOTONIC), so a stage may start in one and end in the
other. The wrappers cost a few µs per call: totals run a little above run.py's.
"""

import argparse
import atexit
import functools
import importlib
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import CHILD_ENV, PANEL_TITLE, PYTHON  # noqa: E402
from benchmarks.keystrokes import ACCEPT_RESUMED, STEPS, _listening  # noqa: E402
from benchmarks.terminal import Terminal  # noqa: E402

# (module, attribute path, label): what the child times
TRACED = [
    ("prompt_toolkit.input.vt100", "Vt100Input.read_keys", "key read"),
    ("prompt_toolkit.shortcuts.prompt", "PromptSession.prompt_async", "prompt"),
    ("prompt_toolkit.application.application", "Application.run_async", "app"),
    ("prompt_toolkit.renderer", "Renderer.render", "render"),
    ("sockrepl.engine", "Engine.run_line", "submit"),
    ("sockrepl.session", "Session.run_line", "run_line"),
    ("sockrepl.session", "Session.poll", "poll"),
    ("sockrepl.session", "Session._await", "await"),
    ("sockrepl.session", "Session.snapshot", "snapshot"),
    ("sockrepl.process", "Worker.send", "send"),
    ("sockrepl.kernel", "read_unix_sockets", "kernel"),
    ("sockrepl.kernel", "fd_table", "kernel"),
    ("sockrepl.kernel", "run_state", "kernel"),
    ("sockrepl.kernel", "task_state", "kernel"),
    ("sockrepl.repl", "Repl.print_events", "print_events"),
    ("sockrepl.repl", "print_formatted_text", "write"),
    ("sockrepl.repl", "Repl._toolbar", "toolbar"),
]


# ---- in the child ----------------------------------------------------------------


def _install(log: list) -> None:
    for module_name, path, label in TRACED:
        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        original = getattr(owner, name)
        setattr(owner, name, _timed(original, label, log))


def _timed(original, label: str, log: list):
    def mark(kind: str) -> None:
        log.append((time.perf_counter(), kind, label, threading.current_thread().name))

    if hasattr(original, "__code__") and original.__code__.co_flags & 0x80:  # a coroutine function
        @functools.wraps(original)
        async def timed_async(*args, **kwargs):
            mark("+")
            try:
                return await original(*args, **kwargs)
            finally:
                mark("-")
        return timed_async

    @functools.wraps(original)
    def timed(*args, **kwargs):
        mark("+")
        try:
            return original(*args, **kwargs)
        finally:
            mark("-")
    return timed


def child(out: str) -> int:
    log: list = []
    _install(log)
    atexit.register(lambda: Path(out).write_text(json.dumps(log)))
    from sockrepl.cli import main

    return main([])


# ---- in the parent ---------------------------------------------------------------


class Log:
    def __init__(self, entries: list):
        self.entries = sorted(entries)

    def first(self, label: str, kind: str, after: float, before: float = float("inf")) -> float | None:
        return next((t for t, k, lab, _ in self.entries if lab == label and k == kind and after <= t < before), None)

    def spans(self, label: str, after: float, before: float) -> list[float]:
        """Durations (ms) of the calls of `label` that started in [after, before)."""
        starts: list[float] = []
        spans = []
        for t, kind, lab, _ in self.entries:
            if lab != label:
                continue
            if kind == "+":
                starts.append(t)
            elif starts:
                start = starts.pop()
                if after <= start < before:
                    spans.append((t - start) * 1000)
        return spans


def _ms(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else (end - start) * 1000


def enter_stages(log: Log, t0: float, shown: float, settled: float) -> dict[str, float | None]:
    key = log.first("key read", "-", t0, settled)
    prompt_back = log.first("prompt", "-", t0, settled)
    submit = log.first("submit", "+", t0, settled)
    line = log.first("run_line", "+", t0, settled)
    send = log.first("send", "+", t0, settled)
    replied = log.first("await", "-", t0, settled)
    line_done = log.first("run_line", "-", t0, settled)
    printing = log.first("print_events", "+", t0, settled)
    printed = log.first("print_events", "-", t0, settled)
    snap = log.first("snapshot", "+", t0, settled) or t0
    snapped = log.first("snapshot", "-", t0, settled)
    app = log.first("app", "+", t0, settled)
    drawn = log.first("render", "-", app, settled) if app else None
    return {
        "Enter -> key read by prompt_toolkit": _ms(t0, key),
        "key read -> prompt returns the line": _ms(key, prompt_back),
        "prompt returns -> line submitted": _ms(prompt_back, submit),
        "engine hop (UI thread -> engine thread)": _ms(submit, line),
        "parse + stopped? check (/proc)": _ms(line, send),
        "worker round trip (send -> reply)": _ms(send, replied),
        "poll + call log": _ms(replied, line_done),
        "hop back (engine -> UI thread)": _ms(line_done, printing),
        "formatted print (written and flushed in it)": _ms(printing, printed),
        "= Enter -> result on screen": _ms(t0, shown),
        "snapshot (engine thread, beside the print)": _ms(snap, snapped),
        "  of which kernel reads (sock_diag, /proc)": sum(log.spans("kernel", snap, snapped or snap)),
        "next prompt -> first render done": _ms(app, drawn),
        "toolbar layout (Repl._toolbar, all renders)": sum(log.spans("toolbar", t0, settled)),
        "renders (count)": float(len(log.spans("render", t0, settled))),
        "renders (total)": sum(log.spans("render", t0, settled)),
        "= Enter -> screen settled": _ms(t0, settled),
    }


def wake_stages(log: Log, t0: float, shown: float, settled: float) -> dict[str, float | None]:
    poll = log.first("poll", "+", t0, settled)
    polled = log.first("poll", "-", t0, settled)
    printing = log.first("print_events", "+", t0, settled)
    write = log.first("write", "+", t0, settled)
    written = log.first("write", "-", t0, settled)
    snap = log.first("snapshot", "+", t0, settled)
    snapped = log.first("snapshot", "-", t0, settled)
    return {
        "connect -> engine thread wakes (poll starts)": _ms(t0, poll),
        "poll (reply read, event made)": _ms(poll, polled),
        "hop (engine -> UI thread)": _ms(polled, printing),
        "UI: erase the prompt before printing": _ms(printing, write),
        "formatted print (written and flushed in it)": _ms(write, written),
        "= connect -> resumed on screen": _ms(t0, shown),
        "snapshot (engine thread)": _ms(snap, snapped),
        "renders (total)": sum(log.spans("render", t0, settled)),
        "= connect -> screen settled": _ms(t0, settled),
    }


def report(title: str, rows: list[dict[str, float | None]]) -> None:
    print(f"\n{title} ({len(rows)} each; median, min ms)")
    for stage in rows[0]:
        values = [r[stage] for r in rows if r[stage] is not None]
        if values:
            print(f"  {stage:48} {statistics.median(values):8.2f} {min(values):8.2f}")
        else:
            print(f"  {stage:48} {'-':>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=12)
    parser.add_argument("--child", metavar="LOG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    scratch = tempfile.mkdtemp(prefix="sockrepl-timeline-")
    log_path = os.path.join(scratch, "log.json")
    env = dict(CHILD_ENV, TERM="xterm-256color", XDG_STATE_HOME=scratch)
    term = Terminal([PYTHON, __file__, "--child", log_path], env)
    marks: dict[str, list[tuple[float, float, float]]] = {"enter": [], "wake": []}
    try:
        term.until(PANEL_TITLE)
        term.settle()
        path = _listening(term)  # p1 blocked in accept on w.sock
        term.enter("spawn p2", r"spawned p2")
        term.enter("socket AF_UNIX SOCK_STREAM", r"= 3")
        for n in range(2 + args.keystrokes):
            line, pattern = STEPS[n % len(STEPS)]
            os.write(term.fd, line.encode())
            term.settle()
            term.mark()
            t0 = time.perf_counter()
            os.write(term.fd, b"\r")
            shown = term.until(pattern)
            if n >= 2:
                marks["enter"].append((t0, shown, term.settle()))
            term.settle()
            caller = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            term.mark()
            t0 = time.perf_counter()
            caller.connect(path)
            shown = term.until(ACCEPT_RESUMED)
            if n >= 2:
                marks["wake"].append((t0, shown, term.settle()))
            caller.close()
            for again, done in (("p1: close 4", r"close\(4\) = 0"), ("p1: accept 3", r"<unfinished \.\.\.>")):
                term.enter(again, done)
    finally:
        term.quit()
    log = Log([tuple(entry) for entry in json.loads(Path(log_path).read_text())])
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"sockrepl keystroke timeline, pty 80x24; load average {os.getloadavg()[0]:.2f}")
    report("Enter (socket / close 4, in p2)", [enter_stages(log, *m) for m in marks["enter"]])
    report("outside connect -> <... accept resumed>", [wake_stages(log, *m) for m in marks["wake"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
