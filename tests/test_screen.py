"""What a student sees at 80x24 and 60x20, and an instructor at 120x35: the panel keeps what
matters, the transcript keeps half the screen, keys never steal a letter (pexpect + pyte)."""

import re

import pytest
from test_repl import Terminal

from sockrepl.events import UsageError
from sockrepl.render import plain
from sockrepl.session import Session
from sockrepl.views import help_lines


def backlog(term):
    """The backlog scenario: listen 3 1, c1 and c2 queued, c3 blocked in connect and current."""
    term.type("spawn server c1 c2 c3", r"^server>")
    term.type("socket AF_UNIX SOCK_STREAM", r"= 3$")
    term.type("bind 3 srv.sock", r"\) = 0$")
    term.type("listen 3 1", r"listen\(3, 1\) = 0")
    for name in ("c1", "c2", "c3"):
        term.type(f"{name}: socket AF_UNIX SOCK_STREAM", rf"\[{name}\] socket.* = 3")
        term.type(f"{name}: connect 3 srv.sock", rf"\[{name}\] connect\(3")
    term.wait_for(r"<unfinished \.\.\.>")
    term.type("use c3", r"^c3>")


@pytest.mark.parametrize("columns,rows", [(80, 24), (60, 20)])
def test_backlog_shows_the_full_queue_and_the_blocked_client_on_one_screen(tmp_path, columns, rows):
    term = Terminal(tmp_path, columns, rows)
    try:
        term.wait_for(r"^p1>")
        backlog(term)
        term.wait_for(r"^▸ c3  pid \d+  BLOCKED in connect\(3\)")
        term.wait_for(r"^    fd 3 STREAM passive LISTEN +srv\.sock pending 2/1")
        screen = term.rows()
        assert re.match(r"    fd 3 STREAM active  CONNECTING → srv\.sock \(queue full\)", screen[screen.index(
            next(r for r in screen if r.startswith("▸ c3"))) + 1])
        rule = next(i for i, row in enumerate(screen) if row.startswith("── state, from the kernel"))
        assert rule >= rows // 2, "the transcript keeps at least half the screen"
        assert screen[-1].startswith(" F1  help   F2  panel")
        assert all(len(row) <= columns for row in screen)
    finally:
        term.close()


def test_f2_and_panel_cycle_compact_full_off(tmp_path):
    term = Terminal(tmp_path, 80, 24)
    try:
        term.wait_for(r"^p1>")
        term.type("spawn a b c d", r"^a>")
        term.wait_for(r"^  p1, b, c, d  idle  \(no sockets\)")
        term.child.send("\x1bOQ")  # F2: full
        term.wait_for(r"^  d  pid \d+  idle  \(no sockets\)")
        term.child.send("\x1bOQ")  # F2: off
        term.pump(0.3)
        assert not any(row.startswith("── state") for row in term.rows())
        assert term.rows()[-1].startswith(" F1  help")
        term.type("panel compact", r"^  p1, b, c, d  idle  \(no sockets\)")
        term.type("panel sideways", r"usage: panel compact\|full\|off")
    finally:
        term.close()


def test_help_names_every_c_argument():
    text = plain(help_lines("accept"))
    assert "  C form: accept(fd, [addr], [addrlen])" in text.splitlines()
    assert "getsockname(fd, [addr], [addrlen])" in plain(help_lines("getsockname"))


def test_the_blocked_hint_offers_ctrl_c_only_for_the_current_process():
    session = Session(interactive=True)
    try:
        for line in ("spawn server client", "socket AF_UNIX SOCK_STREAM", "bind 3 s.sock", "listen 3 1", "accept 3"):
            session.run_line(line)
        here = session.run_line("getsockname 3")[0]
        there = session.run_line("client: close 3")
        session.run_line("use client")
        elsewhere = session.run_line("server: getsockname 3")[0]
    finally:
        session.close()
    assert isinstance(here, UsageError) and here.hint.startswith("Ctrl-C (or interrupt server) ends it with EINTR")
    assert isinstance(elsewhere, UsageError) and "Ctrl-C" not in elsewhere.hint
    assert elsewhere.hint.startswith("interrupt server ends it with EINTR")
    assert there  # the client is not blocked: its command ran
