"""Every wait and every lesson step gives way at once: to Ctrl-C, and to SIGTERM/SIGHUP with the full cleanup."""

import os
import signal
import termios

import pexpect
from conftest import gone, wait_until
from test_repl import Terminal, phone_setup, term  # noqa: F401  (term is a fixture)

WAIT_LESSON = """\
# Waiting

A lesson whose step waits.

## Wait for a caller

```sockrepl
> spawn a
a> socket AF_UNIX SOCK_STREAM
a> bind 3 w.sock
a> listen 3 1
a> accept 3
<unfinished ...>
a> wait a 60
> spawn after
```
"""


def running_a_line(terminal) -> None:
    """Until the prompt has handed the terminal back (canonical mode): a line is being run."""
    wait_until(lambda: termios.tcgetattr(terminal.child.child_fd)[3] & termios.ICANON, 10, "the line to start")


def test_ctrl_c_ends_a_wait_at_once(term):  # noqa: F811
    """At once: long before the wait would have ended (600 s); a tenth of it is a deadline no load reaches
    (0.05 s unloaded; a bound of 1.5 s failed on a loaded machine)."""
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    term.type("wait server 600")
    running_a_line(term)
    term.child.send("\x03")
    term.wait_for(r"wait interrupted: server is still blocked in accept\(3\)", seconds=60)
    term.type("ps", r"^\*\s+server\s+\d+\s+0\s+blocked in accept\(3\)$")  # the session goes on


def test_sigterm_during_a_wait_cleans_up_at_once(term):  # noqa: F811
    """At once: long before the wait would have ended. The wait is the longest there is (600 s) and the
    cleanup is given a tenth of it, a deadline no load reaches (a 3 s bound failed at load 8)."""
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    pids, scratch = term.pids(), term.scratch()
    term.type("wait server 600")
    running_a_line(term)
    term.child.kill(signal.SIGTERM)
    wait_until(lambda: all(gone(pid) for pid in pids) and not os.path.exists(scratch), 60, "the cleanup")
    term.child.expect(pexpect.EOF, timeout=60)
    term.child.wait()
    assert (term.child.exitstatus, term.child.signalstatus) == (128 + signal.SIGTERM, None)


def test_ctrl_backslash_while_a_line_runs_quits_with_the_full_cleanup(term):  # noqa: F811
    """The terminal turns Ctrl-\\ into SIGQUIT while a line runs: it killed sockrepl and left the scratch dir."""
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    pids, scratch = term.pids(), term.scratch()
    term.type("wait server 30")
    running_a_line(term)
    term.child.send("\x1c")
    wait_until(lambda: all(gone(pid) for pid in pids) and not os.path.exists(scratch), 5, "the cleanup")
    term.child.expect(pexpect.EOF, timeout=10)
    term.child.close()
    assert (term.child.exitstatus, term.child.signalstatus) == (128 + signal.SIGQUIT, None)


def _lesson_step_blocked_in_accept(tmp_path) -> Terminal:
    """The waiting lesson at a terminal, its one step started: a's accept is blocked."""
    lesson = tmp_path / "waiting.md"
    lesson.write_text(WAIT_LESSON)
    show = Terminal(tmp_path, args=("lesson", str(lesson)))
    try:
        show.wait_for(r"step 1/1 · Wait for a caller")
        show.child.send("\r")
        show.wait_for(r"accept\(3, NULL, NULL <unfinished \.\.\.>")
    except BaseException:
        show.close()
        raise
    return show


def test_ctrl_c_stops_a_lesson_step(tmp_path):
    show = _lesson_step_blocked_in_accept(tmp_path)
    try:
        running_a_line(show)
        show.child.send("\x03")
        show.wait_for(r"step interrupted", seconds=5)
        assert "spawned after" not in show.transcript()
        show.wait_for(r"^a> ")
    finally:
        show.close()


def test_sighup_during_a_lesson_step_cleans_up_at_once(tmp_path):
    show = _lesson_step_blocked_in_accept(tmp_path)
    try:
        pids, scratch = show.pids(), show.scratch()
        running_a_line(show)
        show.child.kill(signal.SIGHUP)  # at once: long before the step's 60 s wait (a lesson's most) ends
        wait_until(lambda: all(gone(pid) for pid in pids) and not os.path.exists(scratch), 30, "the cleanup")
    finally:
        show.close()
