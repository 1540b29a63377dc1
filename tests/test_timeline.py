"""`timeline`: exact text of the phone and backlog sequences, and ties made from inodes, not order."""


import pytest

from sockrepl.render import plain
from sockrepl.session import Session
from sockrepl.timeline import timeline_lines
from tests.conftest import run_sockrepl

PHONE = """\
spawn server client
server: socket AF_UNIX SOCK_STREAM
client: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: listen 3 1
server: accept 3
client: connect 3 srv.sock
client: write 3 "hello, server\\n"
server: read 4
server: write 4 "hello, client\\n"
client: read 3
client: close 3
server: read 4
server: read 4
server: write 4 "anyone there?"
"""

BACKLOG = """\
spawn server c1 c2 c3
server: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: listen 3 1
c1: socket AF_UNIX SOCK_STREAM
c1: connect 3 srv.sock
c2: socket AF_UNIX SOCK_STREAM
c2: connect 3 srv.sock
c3: socket AF_UNIX SOCK_STREAM
c3: connect 3 srv.sock
server: accept 3
c1: close 3
c1: socket AF_UNIX SOCK_STREAM|SOCK_NONBLOCK
c1: connect 3 srv.sock
c1: fcntl 3 O_NONBLOCK off
c1: connect 3 srv.sock
server: close 3
c2: recv 3
c2: recv 3
c3: read(3, buf, 1024)
c3: read(3, buf, 1024)
c1: connect 3 srv.sock
server: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: unlink srv.sock
c1: connect 3 srv.sock
"""

PHONE_80 = """\
   # server                               client
   1 socket(SOCK_STREAM) = 3
   2                                      socket(SOCK_STREAM) = 3
   3 bind(3, "srv.sock") = 0
   4 listen(3, 1) = 0
   5 ┏ accept(3) …
   6 ┃                                    connect(3, "srv.sock") = 0
   7 ┗ accept(3) = 4 ◀────────────────────┘
   8                                      write(3, "hello, serve"...) = 14
   9 read(4, "hello, serve"...) = 14 ◀────┘
  10 write(4, "hello, clien"...) = 14
  11 └──────────────────────────────────▶ read(3, "hello, clien"...) = 14
  12                                      close(3) = 0
  13 read(4) = 0 ◀───────── EOF ──────────┘
  14 read(4) = 0 ◀───────── EOF ──────────┘
  15 write(4, "anyone there"...) = ? ◀────┘
  16 +++ killed by SIGPIPE +++
┏┃┗ a blocked call   ─▶ the kernel tied two calls   # the log's numbering
"""

PHONE_120 = """\
   # server                                                   client
   1 socket(SOCK_STREAM) = 3
   2                                                          socket(SOCK_STREAM) = 3
   3 bind(3, "srv.sock") = 0
   4 listen(3, 1) = 0
   5 ┏ accept(3) …
   6 ┃                                                        connect(3, "srv.sock") = 0
   7 ┗ accept(3) = 4 ◀────────────────────────────────────────┘
   8                                                          write(3, "hello, serve"...) = 14
   9 read(4, "hello, serve"...) = 14 ◀────────────────────────┘
  10 write(4, "hello, clien"...) = 14
  11 └──────────────────────────────────────────────────────▶ read(3, "hello, clien"...) = 14
  12                                                          close(3) = 0
  13 read(4) = 0 ◀─────────────────── EOF ────────────────────┘
  14 read(4) = 0 ◀─────────────────── EOF ────────────────────┘
  15 write(4, "anyone there"...) = ? ◀─────── SIGPIPE ────────┘
  16 +++ killed by SIGPIPE +++
┏┃┗ a blocked call   ─▶ the kernel tied two calls   # the log's numbering
"""

BACKLOG_80 = """\
   # server            c1                c2                c3
   1 socket(SOCK_STREAM) = 3
   2 bind(3, "srv.sock") = 0
   3 listen(3, 1) = 0
   4                   socket(SOCK_STREAM) = 3
   5                   connect(3, "srv.sock") = 0
   6                                     socket(SOCK_STREAM) = 3
   7                                     connect(3, "srv.sock") = 0
   8                                                       socket(…) = 3
   9                                                       ┏ connect(3, …) …
  10 accept(3) = 4 ◀───┘                                   ┃
  11                                                       ┗ connect(3, …) = 0
  12                   close(3) = 0
  13                   socket(SOCK_STREAM|SOCK_NONBLOCK) = 3
  14                   connect(3, "srv.sock") = -1 EAGAIN
  15                   fcntl(3, O_NONBLOCK off) = 0
  16                   ┏ connect(3, "srv.sock") …
  17 close(3) = 0      ┃
  18 └─── refused ───▶ ┗ connect(3, "srv.sock") = -1 ECONNREFUSED
  19 └────────── ECONNRESET ───────────▶ recv(3) = -1 ECONNRESET
  20 └────────────── EOF ──────────────▶ recv(3) = 0
  21 └─────────────────── ECONNRESET ────────────────────▶ read = -1 ECONNRESET
  22 └─────────────────────── EOF ───────────────────────▶ read(3) = 0
  23                   connect(3, "srv.sock") = -1 ECONNREFUSED
  24 socket(SOCK_STREAM) = 3
  25 bind(3, "srv.sock") = -1 EADDRINUSE
  26 unlink("srv.sock") = 0
  27                   connect(3, "srv.sock") = -1 ENOENT
┏┃┗ a blocked call   ─▶ the kernel tied two calls   # the log's numbering
"""

BACKLOG_120 = """\
   # server                      c1                          c2                          c3
   1 socket(SOCK_STREAM) = 3
   2 bind(3, "srv.sock") = 0
   3 listen(3, 1) = 0
   4                             socket(SOCK_STREAM) = 3
   5                             connect(3, "srv.sock") = 0
   6                                                         socket(SOCK_STREAM) = 3
   7                                                         connect(3, "srv.sock") = 0
   8                                                                                     socket(SOCK_STREAM) = 3
   9                                                                                     ┏ connect(3, "srv.sock") …
  10 accept(3) = 4 ◀─────────────┘                                                       ┃
  11                                                                                     ┗ connect(3, "srv.sock") = 0
  12                             close(3) = 0
  13                             socket(SOCK_STREAM|SOCK_NONBLOCK) = 3
  14                             connect(3, "srv.sock") = -1 EAGAIN
  15                             fcntl(3, O_NONBLOCK off) = 0
  16                             ┏ connect(3, "srv.sock") …
  17 close(3) = 0                ┃
  18 └──────── refused ────────▶ ┗ connect(3, "srv.sock") = -1 ECONNREFUSED
  19 └──────────────────── ECONNRESET ─────────────────────▶ recv(3) = -1 ECONNRESET
  20 └──────────────────────── EOF ────────────────────────▶ recv(3) = 0
  21 └────────────────────────────────── ECONNRESET ───────────────────────────────────▶ read(3) = -1 ECONNRESET
  22 └────────────────────────────────────── EOF ──────────────────────────────────────▶ read(3) = 0
  23                             connect(3, "srv.sock") = -1 ECONNREFUSED
  24 socket(SOCK_STREAM) = 3
  25 bind(3, "srv.sock") = -1 EADDRINUSE
  26 unlink("srv.sock") = 0
  27                             connect(3, "srv.sock") = -1 ENOENT
┏┃┗ a blocked call   ─▶ the kernel tied two calls   # the log's numbering
"""


def recorded(script: str):
    session = Session()
    try:
        for line in script.splitlines():
            session.run_line(line)
        return session.history, session.snapshot()
    finally:
        session.close()


@pytest.fixture(scope="module")
def phone():
    return recorded(PHONE)


@pytest.fixture(scope="module")
def backlog():
    return recorded(BACKLOG)


@pytest.mark.parametrize("width", [80, 120])
def test_phone_timeline_exact(phone, width):
    assert plain(timeline_lines(*phone, width)) + "\n" == globals()[f"PHONE_{width}"]


@pytest.mark.parametrize("width", [80, 120])
def test_backlog_timeline_exact(backlog, width):
    assert plain(timeline_lines(*backlog, width)) + "\n" == globals()[f"BACKLOG_{width}"]


def test_last_n_keeps_a_bar_open_from_before_the_window(phone):
    text = plain(timeline_lines(*phone, 80, last=11))
    assert text.splitlines()[1] == "   6 ┃                                    connect(3, \"srv.sock\") = 0"
    assert len(text.splitlines()) == 11 + 2


def test_a_reused_fd_number_is_not_a_tie(typed):
    """client's fd 3 is a new socket the second time: its write goes to other, the server only sees EOF."""
    typed("spawn server client other", "server: socket AF_UNIX SOCK_STREAM", "server: bind 3 s.sock",
          "server: listen 3 1", "other: socket AF_UNIX SOCK_STREAM", "other: bind 3 o.sock", "other: listen 3 1",
          "client: socket AF_UNIX SOCK_STREAM", "client: connect 3 s.sock", "server: accept 3", "client: close 3",
          "client: socket AF_UNIX SOCK_STREAM", "client: connect 3 o.sock", "other: accept 3",
          'client: write 3 "x"', "server: recv 4", "other: recv 4")
    lines = plain(timeline_lines(typed.session.history, typed.snapshot(), 120)).splitlines()
    assert lines[-3].startswith("  15 recv(4) = 0 ◀") and " EOF " in lines[-3]
    assert lines[-2].startswith("  16") and 'recv(4, "x") = 1 ◀' in lines[-2]


def test_a_queued_call_points_at_the_queue_and_a_datagram_says_what_was_lost(typed):
    typed("spawn srv cli", "srv: socket AF_UNIX SOCK_STREAM", "srv: bind 3 q.sock", "srv: listen 3 1",
          "cli: socket AF_UNIX SOCK_STREAM", "cli: connect 3 q.sock", "srv: socket AF_UNIX SOCK_DGRAM",
          "srv: bind 4 d.sock", "cli: socket AF_UNIX SOCK_DGRAM", 'cli: sendto 4 "LONG MESSAGE" d.sock',
          "srv: recvfrom 4 4")
    lines = plain(timeline_lines(typed.session.history, typed.snapshot(), 80)).splitlines()
    assert lines[5] == '   5 ◀───────────── queued ────────────── connect(3, "q.sock") = 0'
    assert lines[-2] == '  10 recvfrom(4, "LONG") = 4 ◀─ 8 B lost ─┘'



def test_lanes_fold_at_80_columns_and_wide_names_are_measured(typed):
    names = ["x電話", "b", "c", "d", "e", "f", "g"]
    typed("spawn " + " ".join(names), *[f"{n}: socket AF_UNIX SOCK_STREAM" for n in names],
          "x電話: socketpair AF_UNIX SOCK_STREAM", 'x電話: write 4 "hi"', "x電話: read 5")
    lines = plain(timeline_lines(typed.session.history, typed.snapshot(), 80)).splitlines()
    assert lines[0] == "   # x電話          b              c              d              e"
    assert lines[-2].startswith("folded: f, g (2 calls not shown")
    from sockrepl.timeline import text_width

    assert all(text_width(line) <= 80 for line in lines)
    assert len(plain(timeline_lines(typed.session.history, typed.snapshot(), 120)).splitlines()[0].split()) == 8


def test_one_folded_call_is_one_call(typed):
    names = ["a", "b", "c", "d", "e", "f"]
    typed("spawn " + " ".join(names), *[f"{n}: socket AF_UNIX SOCK_STREAM" for n in names])
    lines = plain(timeline_lines(typed.session.history, typed.snapshot(), 80)).splitlines()
    assert lines[-2].startswith("folded: f (1 call not shown: ")


def test_timeline_command_in_a_script():
    result = run_sockrepl(PHONE + "timeline 3\ntimeline 0\n")
    out = result.stdout.decode()
    assert "  15 write(4, \"anyone there\"...) = ? ◀" in out and "+++ killed by SIGPIPE +++\n┏┃┗" in out
    assert "error: timeline: the number of events 0 is out of range" in out and result.returncode == 2
