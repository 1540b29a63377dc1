"""What a student sees at 80x24 and 60x20, and an instructor at 120x35: the panel keeps what
matters, the transcript keeps half the screen, keys never steal a letter (pexpect + pyte)."""

import os
import re

import pytest
from conftest import run_sockrepl
from test_pager import paged_text
from test_repl import Terminal

from sockrepl.events import UsageError
from sockrepl.fit import hanging
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
        assert screen[-1].startswith(" F1  help   F2  panel")  # (widths: test_render, a screen row never overflows)
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


PAGE_DOWN, PAGE_UP = "\x1b[6~", "\x1b[5~"


def test_a_pasted_block_runs_line_by_line_each_with_its_result(tmp_path):
    term = Terminal(tmp_path, 80, 24)
    try:
        term.wait_for(r"^p1>")
        term.child.send("\x1b[200~spawn s2\ns2: socket AF_UNIX SOCK_STREAM\nsocket AF_UNIX SOCK_DGRAM\n"
                        "socket AF_UNIX\x1b[201~")
        term.wait_for(r"^\[s2\] socket\(AF_UNIX, SOCK_DGRAM, 0\) = 4$")
        term.wait_for(r"^s2> socket AF_UNIX$")  # the unfinished last line waits at the prompt, to edit
        rows = term.rows()
        first = next(i for i, row in enumerate(rows) if row == "p1> spawn s2")
        assert rows[first + 2:first + 6] == ["s2> s2: socket AF_UNIX SOCK_STREAM",
                                             "[s2] socket(AF_UNIX, SOCK_STREAM, 0) = 3",
                                             "s2> socket AF_UNIX SOCK_DGRAM",
                                             "[s2] socket(AF_UNIX, SOCK_DGRAM, 0) = 4"]
        assert "not a process name" not in term.transcript()
    finally:
        term.close()


def test_present_mode_shows_one_step_per_screen_and_moves_by_keys_that_start_no_command(tmp_path):
    """One terminal for the three (each was a sockrepl of its own; one of them at 120x40, in test_repl.py)."""
    show = Terminal(tmp_path, 120, 35, args=("lesson", "--present", "backlog"))
    try:
        show.wait_for(r"step 1/9 ·")
        assert "spawn server client" not in show.text()  # the empty panel does not prescribe names
        show.child.send(PAGE_DOWN)
        show.wait_for(r"PgDn: step 2/9 · ")
        show.child.send(PAGE_DOWN)
        show.wait_for(r"PgDn: step 3/9 · ")
        screen = show.text()
        assert "step 2/9 ·" in screen and "step 1/9 ·" not in screen, f"step 1 went with its screen:\n{screen}"
        show.wait_for(r"PgDn +next +PgUp +back +Ctrl-C +interrupt")

        show.wait_for(r"backlog: step 3/9")
        show.child.send("\x1b[C")  # → on an empty line
        show.wait_for(r"backlog: step 4/9")
        show.child.send("b")  # a letter is a letter: `bind` must be typeable
        show.child.send(" ind 3")
        show.wait_for(r"> b ind 3$")
        show.child.send("\x1b[D")  # ← with text on the line moves the cursor, nothing else
        show.pump(0.3)
        assert "replaying" not in show.transcript() and "backlog: step 4/9" in show.text(), \
            f"← with text on the line moved the lesson:\n{show.text()}"
        show.child.sendcontrol("c")
        show.child.send(PAGE_UP)
        show.wait_for(r"replaying steps 1–2 in a fresh session")
        show.wait_for(r"backlog: step 3/9")
        assert re.search(r"PgDn +next +PgUp +back +Ctrl-C +interrupt", show.rows()[-1])

        for step in (4, 5):  # paced on to the step where c3 blocks, and back from it (was a sockrepl of its own)
            show.child.send(PAGE_DOWN)
            show.wait_for(rf"backlog: step {step}/9")
        show.wait_for(r"BLOCKED in connect\(3\)")
        show.child.send(PAGE_UP)
        show.wait_for(r"backlog: step 4/9")
        show.wait_for(r"c3  pid \d+  idle  \(no sockets\)")
        assert "⚠" not in show.seen and "Traceback" not in show.seen
    finally:
        show.close()


def test_a_lesson_names_its_scratch_directory_back_takes_no_argument_and_next_warns_of_changed_premises(tmp_path):
    """One terminal for the three (each was a sockrepl of its own)."""
    lesson = Terminal(tmp_path, 100, 30, args=("lesson", "phone"))
    try:
        lesson.wait_for(r"step 1/9")
        named = re.findall(r"scratch directory (\S+)", lesson.transcript())
        assert len(named) == 1 and os.path.isdir(named[0]), f"the scratch directory named once: {named}"
        lesson.child.send("\r")
        lesson.wait_for(r"next step \(phone: step 2/9\)")
        lesson.type("back 2", r"error: back: too many arguments \(unexpected '2'\)")
        lesson.pump(0.3)
        assert "replaying" not in lesson.transcript() and "phone: step 2/9" in lesson.text(), \
            f"back 2 moved the lesson:\n{lesson.text()}"

        for step in (3, 4):  # next warns in the student's words before a step whose premises changed
            lesson.child.send("\r")
            lesson.wait_for(rf"next step \(phone: step {step}/9\)")
        lesson.type("server: close 3", r"\[server\] close\(3\) = 0")
        lesson.type("next", r"⚠ since the last step, server's fd 3 is closed: the next step was written")
        lesson.wait_for(r"goto 4 replays the lesson up to here")
        lesson.pump(0.3)
        assert "accept" not in lesson.transcript().split("server: close 3")[1], "the step ran after the warning"
        assert "phone: step 4/9" in lesson.text()
        lesson.type("goto 4", r"replaying steps 1–3")
        lesson.type("next", r"\[server\] accept\(3, NULL, NULL <unfinished \.\.\.>")
        assert "⚠ the kernel did not" not in lesson.transcript()
    finally:
        lesson.close()


def test_common_first_inputs_are_understood():
    result = run_sockrepl('spawn a\nfd = socket(AF_UNIX, SOCK_STREAM, 0)\nint s = socket(AF_UNIX, SOCK_DGRAM, 0);\n'
                          "send 3 hello world\nexit()\nsocket AF_UNIX SOCK_STREAM\n")
    out = result.stdout.decode().splitlines()
    assert out[2:9] == [
        "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3",
        "    ↳ fd = 3: sockrepl keeps no variables, so type 3 where C says fd",
        "[a] socket(AF_UNIX, SOCK_DGRAM, 0) = 4",
        "    ↳ s = 4: sockrepl keeps no variables, so type 4 where C says s",
        "line 4: error: send: unknown flag 'world'",
        "usage: send FD DATA [FLAGS]",
        'hint: a string with spaces goes in double quotes, as in C: send 3 "hello world" ...']
    assert len(out) == 9 and result.returncode == 2  # exit() left: the last line never ran


def test_hints_and_notes_wrap_at_words_with_a_hanging_indent(tmp_path):
    assert [text for [(_, text)] in hanging([("", "    ↳ the sender has no address (it never called bind), so "
                                                  "there is no way to reply")], 60)] == [
        "    ↳ the sender has no address (it never called bind), so", "      there is no way to reply"]
    term = Terminal(tmp_path, 60, 20)
    try:
        term.wait_for(r"^p1>")
        term.type("send 3 hello world", r"^hint: a string with spaces goes in double quotes, as in C:$")
        term.wait_for(r'^      send 3 "hello world" \.\.\.$')
    finally:
        term.close()



PHONE_CALL = ('spawn server client\nsocket AF_UNIX SOCK_STREAM\nbind 3 srv.sock\nlisten 3 1\naccept 3\n'
              'client: socket AF_UNIX SOCK_STREAM\nclient: connect 3 srv.sock\nclient: write 3 "hi"\nread 4\n')
TIMELINE_60 = """\
   # server                     client
   1 socket(SOCK_STREAM) = 3
   2 bind(3, "srv.sock") = 0
   3 listen(3, 1) = 0
   4 ┏ accept(3) …
   5 ┃                          socket(SOCK_STREAM) = 3
   6 ┃                          connect(3, "srv.sock") = 0
   7 ┗ accept(3) = 4 ◀──────────┘
   8                            write(3, "hi") = 2
   9 read(4, "hi") = 2 ◀────────┘
┏┃┗ a blocked call   ─▶ the kernel tied two calls
"""


def test_timeline_pages_when_taller_than_the_room_above_the_panel_at_60x20_and_fits_a_projector(tmp_path):
    """60x20: the phone call's timeline (11 lines) is taller than the 9 rows left by the panel, the line
    typed and the prompt, so it is paged (its lane names scrolled away); the last 7 events fit, on the screen.
    The same terminal at 120x35, a projector: all of it on the screen, with wider lanes."""
    into = tmp_path / "paged"
    term = Terminal(tmp_path, 60, 20, pager=f"cat > {into}")
    try:
        term.wait_for(r"^p1>")
        term.child.send(f"\x1b[200~{PHONE_CALL}\x1b[201~")  # pasted: the lines run one by one
        term.wait_for(r'^\[server\] read\(4, "hi", 1024\) = 2$')
        term.wait_for(r"^  client  pid \d+  idle\n    fd 3 STREAM active  CONNECTED")  # the panel is 9 rows now
        term.type("timeline")
        assert re.sub(r"\x1b\[[0-9;]*m", "", paged_text(term, str(into), "┏┃┗")) == TIMELINE_60

        term.type("timeline 7", r"(?s)^┏┃┗ [^\n]*\nserver>.*── state")
        assert term.rows()[:10] == ["server> timeline 7", "   # server                     client",
                                    *TIMELINE_60.splitlines()[3:]]

        term.child.setwinsize(35, 120)
        term.screen.resize(35, 120)
        term.type("timeline", r"(?s)# the log's numbering\nserver>.*── state")
        rows = term.rows()
        start = rows.index("server> timeline", rows.index("server> timeline 7"))
        assert rows[start + 1:start + 13] == [
            "   # server                                                   client",
            "   1 socket(SOCK_STREAM) = 3",
            "   2 bind(3, \"srv.sock\") = 0",
            "   3 listen(3, 1) = 0",
            "   4 ┏ accept(3) …",
            "   5 ┃                                                        socket(SOCK_STREAM) = 3",
            "   6 ┃                                                        connect(3, \"srv.sock\") = 0",
            "   7 ┗ accept(3) = 4 ◀────────────────────────────────────────┘",
            "   8                                                          write(3, \"hi\") = 2",
            "   9 read(4, \"hi\") = 2 ◀──────────────────────────────────────┘",
            "┏┃┗ a blocked call   ─▶ the kernel tied two calls   # the log's numbering",
            "server>"]
    finally:
        term.close()
