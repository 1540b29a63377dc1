"""Long output in the REPL goes through $PAGER (else less -R, else a built-in pager); short output does not."""

import os
import signal
import subprocess
import sys
import time

import pexpect
import pytest
from conftest import gone
from test_repl import Terminal


def paged(tmp_path, name):
    """A $PAGER that copies what it is given into a file: what was paged, byte for byte."""
    return str(tmp_path / name), f"cat > {tmp_path / name}"


def paged_text(term, into, needle, seconds=10.0):
    """What the pager was given, once it holds `needle` (the pty is read meanwhile, CPR answered)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        term.pump(0.05)
        if os.path.exists(into):
            with open(into) as file:
                text = file.read()
            if needle in text:
                return text
    raise AssertionError(f"{needle!r} never reached the pager:\n{term.text()}")


def test_at_80x24_help_fits_beside_the_panel_taller_output_is_paged_and_stays_escaped(tmp_path):
    """One terminal for the three (each was a sockrepl of its own): F1 and `help stream` are one screen, not
    paged; `help all` is taller than the screen, so paged, and the prompt comes back; a file name's escapes
    reach the pager escaped."""
    into, pager = paged(tmp_path, "paged")
    term = Terminal(tmp_path, 80, 24, pager=pager)
    try:
        term.wait_for(r"^p1>")
        term.child.send("\x1bOP")  # F1
        term.wait_for(r"(?s)^processes .*man CALL: a call\np1>.*state, from the kernel.* F1 ")  # all of it at once
        rows = term.rows()
        overview = rows.index(next(row for row in rows if row.startswith("processes ")))
        assert rows[overview + 1].startswith("sockets ") and "panel clear step export exit" in term.text()
        term.type("help stream", r"^  accept FD")
        assert not os.path.exists(into), "help stream was paged"

        term.type("ps", r"\* p1 ")
        assert not os.path.exists(into), "a short answer was paged"
        since = len(term.seen)
        term.type("help all")
        text = paged_text(term, into, "man CALL: a call")
        assert "spawn [--user USER]" in text and "\x1b[?7h" not in text
        assert text.count("\n") > 24
        term.type("ps", r"(?s)p1> ps.*\* p1 .*\* p1 ")  # the prompt came back, and the REPL goes on
        assert "man CALL: a call" not in term.transcript(since), "help all reached the screen, not only the pager"

        os.unlink(into)  # (help all names getsockname too)
        term.type("socket AF_UNIX SOCK_DGRAM", r"\) = 3$")
        term.type('bind 3 "\\e]0;owned\\a\\e[2J.sock"', r"^\[p1\] bind.*= 0$")
        for _ in range(22):  # the timeline grows taller than the screen with the bind in it
            term.type("getsockname 3", r"= 0")
        term.type("timeline")
        text = paged_text(term, into, "getsockname")
        assert "owned" in text and "\x1b]" not in text and "\x1b[2J" not in text, "escapes reached the pager"
    finally:
        term.close()


def test_less_pages_help_all_and_q_gives_the_prompt_back(tmp_path):
    term = Terminal(tmp_path, 80, 24, pager="less -R")
    try:
        term.wait_for(r"^p1>")
        term.type("help all", r"^:|\(END\)")
        assert "processes" in term.text() and "man CALL" not in term.text()
        term.child.send("q")
        term.wait_for(r"^p1>\s*$")
        term.type("ps", r"\* p1 ")
    finally:
        term.close()


def test_sockrepl_run_never_pages(tmp_path):
    into, pager = paged(tmp_path, "paged")
    script = tmp_path / "script"
    script.write_text("help\n")
    done = subprocess.run([sys.executable, "-m", "sockrepl", "run", str(script)], capture_output=True, text=True,
                          env={**os.environ, "PAGER": pager}, timeout=30)
    assert "man CALL: a call" in done.stdout and not os.path.exists(into)


def test_without_pager_or_less_the_built_in_pager_pages_and_ctrl_c_stops_it(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no less to find
    term = Terminal(tmp_path, 80, 24, pager="")
    try:
        term.wait_for(r"^p1>")
        term.type("help all", r"^-- more: Space next page")
        assert any(row.startswith("  bind FD PATH ") for row in term.rows())  # each line at the left margin
        assert "man CALL: a call" not in term.text()
        term.child.send(" ")
        term.wait_for(r"^  listen FD BACKLOG")
        term.child.send("\x03")
        term.wait_for(r"^p1>\s*$")
        term.type("ps", r"\* p1 ")
        assert "man CALL: a call" not in term.transcript()
    finally:
        term.close()


@pytest.mark.parametrize("how, pager", [("SIGTERM", "external"), ("SIGUSR1", "external"), ("SIGTERM", "built-in")])
def test_a_signal_while_the_pager_runs_ends_it_and_sockrepl_with_the_cleanup(tmp_path, monkeypatch, how, pager):
    """The pager runs with the event loop held: the signal must still reach the REPL once the pager is gone
    (SIGTERM was lost there, and sockrepl stayed; SIGUSR1 left the pager running; the built-in pager waited
    for a key)."""
    if pager == "built-in":
        (tmp_path / "bin").mkdir()
        monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no less to find
    command = f"cat > {tmp_path / 'paged'}; exec sleep 600" if pager == "external" else ""  # stays, as a pager does
    term = Terminal(tmp_path, 80, 24, pager=command)
    try:
        term.wait_for(r"^p1>")
        pids, scratch = term.pids(), term.scratch()
        term.type("help all")
        if pager == "external":
            paged_text(term, str(tmp_path / "paged"), "man CALL: a call")
        else:
            term.wait_for(r"^-- more: Space next page")
        term.child.kill(getattr(signal, how))
        term.child.expect(pexpect.EOF, timeout=30)  # a deadline, not a wait: the pager would sleep 600 s
        term.child.close()
        assert (term.child.exitstatus, term.child.signalstatus) == (128 + getattr(signal, how), None)
        assert all(gone(pid) for pid in pids) and not os.path.exists(scratch)
    finally:
        term.close()
