"""What a user waits for at the keyboard, in a real pty at 80x24, against a bare prompt_toolkit app.

- Enter -> the call's result on screen, sockrepl against the floor app's Enter -> echo
  (benchmarks/floor_app.py: a PromptSession with an 8-line toolbar printing each line back).
- A program outside sockrepl connects -> `<... accept resumed>` on screen, against the same floor.
"Settled" is the last byte before the output goes quiet: the result and the redrawn panel.
The three run interleaved, one keystroke each per round, in three terminals.
"""

import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from benchmarks.common import CHILD_ENV, PANEL_TITLE, PYTHON, Config, Row
from benchmarks.terminal import Terminal, plain

FLOOR_APP = str(Path(__file__).with_name("floor_app.py"))
# Alternating lines that leave the fd table as they found it; the result each one prints.
STEPS = [("socket AF_UNIX SOCK_STREAM", r"socket\(AF_UNIX, SOCK_STREAM, 0\) = 4"),
         ("close 4", r"close\(4\) = 0")]
ACCEPT_RESUMED = r"<\.\.\. accept resumed>\) = 4"


def _listening(term: Terminal) -> str:
    """p1 blocked in accept on w.sock; the socket file's path."""
    for line, pattern in (("socket AF_UNIX SOCK_STREAM", r"= 3"), ("bind 3 w.sock", r"bind\(3, .*\) = 0"),
                          ("listen 3 5", r"listen\(3, 5\) = 0"), ("accept 3", r"<unfinished \.\.\.>")):
        term.enter(line, pattern)
    scratch = re.search(r"scratch directory (\S+)", plain(term.seen))
    if scratch is None:
        raise RuntimeError("sockrepl did not print its scratch directory")
    return os.path.join(scratch.group(1), "w.sock")


def _wake(term: Terminal, path: str) -> tuple[float, float]:
    """Connect from here; ms until `<... accept resumed>` shows, and until settled. Then re-arm."""
    caller = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        term.settle()
        term.mark()
        start = time.perf_counter()
        caller.connect(path)
        shown = term.until(ACCEPT_RESUMED)
        settled = term.settle()
    finally:
        caller.close()
    term.enter("close 4", r"close\(4\) = 0")
    term.enter("accept 3", r"<unfinished \.\.\.>")
    return (shown - start) * 1000, (settled - start) * 1000


def bench_keystrokes(cfg: Config, sockrepl: str, rows: dict[str, Row]) -> None:
    state = tempfile.mkdtemp(prefix="sockrepl-bench-state-")  # history goes here, not to the user's
    env = dict(CHILD_ENV, TERM="xterm-256color", XDG_STATE_HOME=state)
    terms: list[Terminal] = []
    try:
        for argv in ([sockrepl], [sockrepl], [PYTHON, FLOOR_APP]):  # started together, their starts overlap
            terms.append(Terminal(argv, env))
        repl, waker, floor = terms
        for term, ready in ((repl, PANEL_TITLE), (waker, PANEL_TITLE), (floor, "toolbar line 8")):
            term.until(ready)
            term.settle()
        repl.enter("socket AF_UNIX SOCK_STREAM", r"= 3")
        path = _listening(waker)
        samples: dict[str, list[tuple[float, float]]] = {"repl": [], "floor": [], "wake": []}
        warmups = 2 if cfg.warmup else 0
        for n in range(warmups + cfg.runs * cfg.keystrokes):
            line, pattern = STEPS[n % len(STEPS)]
            round_ = {"repl": repl.enter(line, pattern),
                      "floor": floor.enter(line, "echo: " + re.escape(line)),
                      "wake": _wake(waker, path)}
            if n >= warmups:
                for key, sample in round_.items():
                    samples[key].append(sample)
    finally:
        for term in terms:
            term.quit()
        shutil.rmtree(state, ignore_errors=True)
    shown = {key: [first for first, _ in values] for key, values in samples.items()}
    settled = {key: [last for _, last in values] for key, values in samples.items()}
    rows["floor-echo"].samples, rows["floor-settled"].samples = shown["floor"], settled["floor"]
    rows["enter"].samples, rows["enter-settled"].samples = shown["repl"], settled["repl"]
    rows["wake"].samples, rows["wake-settled"].samples = shown["wake"], settled["wake"]
    rows["enter"].compare(shown["floor"], 1.5)
    rows["wake"].compare(shown["floor"], 1.5)
    rows["enter-settled"].floor = rows["wake-settled"].floor = settled["floor"]
