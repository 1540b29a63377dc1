"""Renderers are pure: events and snapshots in, exact text out."""

import os
import socket

import pytest

from sockrepl import analogy
from sockrepl.events import CallEvent, ExitEvent, Outcome, SignalEvent
from sockrepl.fit import cells
from sockrepl.kernel import SocketTable, UnixSocket
from sockrepl.listings import ss_lines
from sockrepl.panel import panel_lines
from sockrepl.parser import parse
from sockrepl.procfs import FdTarget, TaskState
from sockrepl.protocol import Address, Option, Pair, Passed, Previous, Received, Status
from sockrepl.quoting import c_string, sockaddr
from sockrepl.render import event_lines, plain
from sockrepl.state import ProcessFacts, build


@pytest.mark.parametrize("data,text", [
    (b"hello\n", '"hello\\n"'),
    (b'say "hi"\\', '"say \\"hi\\"\\\\"'),
    (b"\x00\x01\xff", '"\\0\\1\\377"'),
    (b"\x001", '"\\0001"'),
    (b"\t\r\x0b\x0c", '"\\t\\r\\v\\f"'),
    (b"x" * 40, '"' + "x" * 32 + '"...'),
    (b"", '""'),
])
def test_c_string_is_strace_quoting(data, text):
    assert c_string(data) == text


def line(text, phase="done", outcome=None, process="server"):
    return plain(event_lines(CallEvent(process, parse(text), phase, outcome)))


CALLS = [
    ("socket AF_UNIX SOCK_STREAM|SOCK_NONBLOCK", Outcome(3),
     "[server] socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK, 0) = 3"),
    ("bind 3 @abs", Outcome(0, out=Passed(6)), '[server] bind(3, {sa_family=AF_UNIX, sun_path=@"abs"}, 6) = 0'),
    ('bind 3 ""', Outcome(0, out=Passed(2)), "[server] bind(3, {sa_family=AF_UNIX}, 2) = 0"),
    ("listen 3 5", Outcome(-1, 95), "[server] listen(3, 5) = -1 EOPNOTSUPP (Operation not supported)"),
    ("socketpair AF_UNIX SOCK_DGRAM", Outcome(0, out=Pair((3, 4))),
     "[server] socketpair(AF_UNIX, SOCK_DGRAM, 0, [3, 4]) = 0"),
    ('sendto 3 "hi" srv.sock MSG_DONTWAIT', Outcome(2, out=Passed(10)),
     '[server] sendto(3, "hi", 2, MSG_DONTWAIT, {sa_family=AF_UNIX, sun_path="srv.sock"}, 10) = 2'),
    ("recvfrom 3 10", Outcome(2, out=Received(b"hi", 2, 2, Address(b"cli.sock", 11))),
     '[server] recvfrom(3, "hi", 10, 0, {sa_family=AF_UNIX, sun_path="cli.sock"}, [110 => 11]) = 2'),
    ("getsockopt 4 SO_PEERCRED", Outcome(0, out=Option((42, 1000, 100), 12)),
     "[server] getsockopt(4, SOL_SOCKET, SO_PEERCRED, {pid=42, uid=1000, gid=100}, [12]) = 0"),
    ("getsockopt 4 SO_TYPE", Outcome(0, out=Option((5,), 4)),
     "[server] getsockopt(4, SOL_SOCKET, SO_TYPE, [SOCK_SEQPACKET], [4]) = 0"),
    ("stat srv.sock", Outcome(0, out=Status(0o140755, 0, 0, 0, 1)),
     '[server] stat("srv.sock", {st_mode=S_IFSOCK|0755, st_size=0, ...}) = 0'),
    ("shutdown 4 SHUT_WR", Outcome(0), "[server] shutdown(4, SHUT_WR) = 0"),
    ("signal SIGPIPE ignore", Outcome(0, out=Previous("SIG_DFL")), "[server] signal(SIGPIPE, SIG_IGN) = SIG_DFL"),
]


@pytest.mark.parametrize("text,outcome,expected", CALLS)
def test_call_lines(text, outcome, expected):
    assert line(text, outcome=outcome).splitlines()[0] == expected


def test_unfinished_and_resumed_put_out_parameters_at_the_end():
    assert line("accept 3", "unfinished") == "[server] accept(3, NULL, NULL <unfinished ...>"
    assert line("accept 3", "resumed", Outcome(4)) == "[server] <... accept resumed>) = 4"
    assert line("recv 4", "unfinished") == "[server] recv(4,  <unfinished ...>"
    assert line("recv 4", "resumed", Outcome(3, out=Received(b"abc", 1))) == \
        '[server] <... recv resumed>"abc", 1024, 0) = 3'
    assert line("accept 3", "lost") == "[server] <... accept resumed> <unfinished ...>) = ?"
    assert line('write 4 "x"', "died") == '[server] write(4, "x", 1) = ?'


def test_notes_explain_eof_and_truncation():
    eof = line("read 4", outcome=Outcome(0, out=Received(b"", 1)))
    assert eof.splitlines()[1] == "    ↳ 0 bytes = end of file: the other side hung up (or shut down its writing side)"
    cut = line("recvfrom 3 4", outcome=Outcome(4, out=Received(b"LONG", 2, 12, Address(None, 0))))
    assert cut.splitlines()[1:] == [
        "    ↳ truncated: the datagram had 12 bytes, the buffer 4; the other 8 are lost",
        "    ↳ the sender has no address (it never called bind), so there is no way to reply"]


def test_exit_and_signal_lines():
    assert plain(event_lines(ExitEvent("client", 1, signal=13))).splitlines()[0] == "[client] +++ killed by SIGPIPE +++"
    assert plain(event_lines(ExitEvent("client", 1, code=0))) == "[client] +++ exited with 0 +++"
    assert plain(event_lines(SignalEvent("client", 19, "stopped"))) == "[client] --- stopped by SIGSTOP ---"


def sock(inode, type_=1, state=7, name=None, peer=0, icons=(), rq=0, wq=0, vfs=None, shutdown=0):
    return UnixSocket(inode, type_, state, name, vfs, peer, icons, rq, wq, shutdown, 0)


def backlog_snapshot(current="server", p1=False, name=b"srv.sock", c3_blocked=True):
    """listen 1, two clients queued, a third blocked in connect: made of plain data, no kernel."""
    table = SocketTable({
        10: sock(10, state=10, name=name, icons=(11, 12), rq=2, wq=1, vfs=(1, 99)),
        11: sock(11, state=1), 12: sock(12, state=1), 13: sock(13, state=7),
    }, False)

    def facts(name, pid, fds, pending=None, current=False):
        targets = {fd: FdTarget(fd, inode, None) for fd, inode in fds.items()}
        return ProcessFacts(name, pid, 0, current, pending, targets, TaskState("S", 0, (0,), None))

    processes = [facts("server", 100, {3: 10}), facts("c1", 101, {3: 11}), facts("c2", 102, {3: 12}),
                 facts("c3", 103, {3: 13}, pending=("connect", 3, name) if c3_blocked else None)]
    if p1:
        processes.insert(0, facts("p1", 99, {}))
    processes = [p._replace(current=p.name == current) for p in processes]

    class Stat:
        st_mode, st_ino, st_uid, st_gid, st_mtime = 0o140755, 99, 0, 0, 0.0

    return build(processes, table, [(os.path.join("/scratch", name.decode()), Stat())], "/scratch")


PANEL_80 = """\
▸ server  pid 100  idle
    fd 3 STREAM passive LISTEN     srv.sock pending 2/1 (Linux: backlog+1)
  c1  pid 101  idle
    fd 3 STREAM active  CONNECTED  → srv.sock (queued)  ☎ ringing
  c2  pid 102  idle
    fd 3 STREAM active  CONNECTED  → srv.sock (queued)  ☎ ringing
  c3  pid 103  BLOCKED in connect(3): the listener's queue is full
    fd 3 STREAM active  CONNECTING → srv.sock (queue full)  ☎ line busy
socket files:  srv.sock (bound: server fd 3)"""


def test_panel_at_80_columns():
    lines = panel_lines(backlog_snapshot(), 80)
    assert plain(lines) == PANEL_80
    assert all(len("".join(t for _, t in row)) <= 80 for row in lines)


def test_panel_at_200_columns_shows_every_analogy():
    text = plain(panel_lines(backlog_snapshot(), 200))
    assert "srv.sock pending 2/1 (Linux: backlog+1)  ☎ ringer on, 2 callers waiting" in text
    assert text.count("→ srv.sock (queued)  ☎ ringing: not picked up yet") == 2
    assert "→ srv.sock (queue full)  ☎ calling: line busy, waiting" in text


def test_panel_summarises_what_does_not_fit():
    text = plain(panel_lines(backlog_snapshot(), 100, height=5))
    assert text.splitlines() == [
        "▸ server  pid 100  idle",
        "    fd 3 STREAM passive LISTEN srv.sock pending 2/1 (Linux: backlog+1)  ☎ 2 waiting",
        "  c3  pid 103  BLOCKED in connect(3): the listener's queue is full  (1 fd not shown)",
        "  … 5 more lines (c1, c2): state prints them all",
        "socket files:  srv.sock (bound: server fd 3)",
    ]


# The backlog scenario as a student meets it: p1, server, c1 c2 queued, c3 blocked and current.
# Heights are the compact panel's at 80x24, 60x20 and 120x35 (rows // 2 - 3).
BACKLOG_AT = {
    (80, 9): """\
  p1  pid 99  idle  (no sockets)
  server  pid 100  idle
    fd 3 STREAM passive LISTEN     srv.sock pending 2/1 (Linux: backlog+1)
  c1  pid 101  idle  (1 fd not shown)
  c2  pid 102  idle  (1 fd not shown)
▸ c3  pid 103  BLOCKED in connect(3): the listener's queue is full
    fd 3 STREAM active  CONNECTING → srv.sock (queue full)  ☎ line busy
  … 2 more lines: state prints them all
socket files:  srv.sock (bound: server fd 3)""",
    (60, 7): """\
  server  pid 100  idle
    fd 3 STREAM passive LISTEN     srv.sock pending 2/1
  c1  pid 101  idle  (1 fd not shown)
▸ c3  pid 103  BLOCKED in connect(3): the listener's…
    fd 3 STREAM active  CONNECTING → srv.sock (queue full)
  … 4 more lines (p1, c2): state prints them all
socket files:  srv.sock (bound: server fd 3)""",
    (120, 14): """\
  p1  pid 99  idle  (no sockets)
  server  pid 100  idle
    fd 3 STREAM passive LISTEN     srv.sock pending 2/1 (Linux: backlog+1)  ☎ ringer on, 2 callers waiting
  c1  pid 101  idle
    fd 3 STREAM active  CONNECTED  → srv.sock (queued)  ☎ ringing: not picked up yet
  c2  pid 102  idle
    fd 3 STREAM active  CONNECTED  → srv.sock (queued)  ☎ ringing: not picked up yet
▸ c3  pid 103  BLOCKED in connect(3): the listener's queue is full
    fd 3 STREAM active  CONNECTING → srv.sock (queue full)  ☎ calling: line busy, waiting
socket files:  srv.sock (bound: server fd 3)""",
}


@pytest.mark.parametrize("size", BACKLOG_AT)
def test_panel_keeps_the_blocked_client_and_the_full_listener(size):
    width, height = size
    lines = panel_lines(backlog_snapshot(current="c3", p1=True), width, height, "compact")
    assert plain(lines) == BACKLOG_AT[size]
    assert all(cells(text) <= width for text in plain(lines).splitlines())


@pytest.mark.parametrize("width,height", [(80, 24), (60, 20)])
def test_a_long_socket_name_gives_way_to_the_queue_and_the_blocked_call(width, height):
    """`pending 2/1` and `(queue full)` were cut off by a 38-character path at 80 columns."""
    name = b"/tmp/lecture/my_echo_server_socket.sock"
    rows = plain(panel_lines(backlog_snapshot(current="c3", name=name), width, height, "compact")).splitlines()
    listener = next(row for row in rows if "LISTEN" in row)
    blocked = next(row for row in rows if "CONNECTING" in row)
    assert "pending 2/1" in listener and "_socket.sock" in listener
    assert ".sock (queue full)" in blocked
    assert "…" in listener and all(cells(row) <= width for row in rows)


def test_socket_files_says_none_when_every_file_was_removed():
    """After `unlink srv.sock` the line read `socket files:` with nothing after it."""
    table = SocketTable({10: sock(10, state=10, name=b"srv.sock", vfs=(1, 99))}, False)
    procs = [ProcessFacts("server", 100, 0, True, None, {3: FdTarget(3, 10, None)}, TaskState("S", 0, (0,), None))]
    rows = plain(panel_lines(build(procs, table, [("/scratch/srv.sock", None)], "/scratch"), 80)).splitlines()
    assert rows[-1] == "socket files: none"


def test_compact_panel_folds_idle_processes_without_sockets_to_one_line():
    table = SocketTable({}, False)
    procs = [ProcessFacts(n, 10 + i, 0, n == "a", None, {}, TaskState("S", 0, (0,), None))
             for i, n in enumerate(["a", "b", "c", "d"])]
    snapshot = build(procs, table, [], "/scratch")
    assert plain(panel_lines(snapshot, 80, 10, "compact")).splitlines() == [
        "▸ a  pid 10  idle  (no sockets)",
        "  b, c, d  idle  (no sockets)",
        "socket files: none",
    ]
    assert len(plain(panel_lines(snapshot, 80, 10, "full")).splitlines()) == 5


def test_the_listener_a_blocked_current_process_waits_for_comes_before_other_blocked_callers():
    """Five callers blocked on a full queue at 80x24: the others' identical rows took the room, and the
    listener (why the current one waits) went into `… more lines`."""
    table = SocketTable({10: sock(10, state=10, name=b"s", icons=(11,), rq=1, wq=0, vfs=(1, 99)),
                         **{11 + i: sock(11 + i, state=1 if i == 0 else 7) for i in range(6)}}, False)

    def facts(name, pid, fds, blocked=False):
        targets = {fd: FdTarget(fd, inode, None) for fd, inode in fds.items()}
        return ProcessFacts(name, pid, 0, name == "c5", ("connect", 3, b"s") if blocked else None, targets,
                            TaskState("S", 0, (0,), None))

    procs = [facts("srv", 100, {3: 10}), facts("c1", 101, {3: 11})]
    procs += [facts(f"c{i}", 100 + i, {3: 10 + i}, blocked=True) for i in range(2, 7)]
    rows = plain(panel_lines(build(procs, table, [], "/scratch"), 80, 9, "compact")).splitlines()
    assert rows[:4] == ["  srv  pid 100  idle",
                        "    fd 3 STREAM passive LISTEN     s pending 1/0 (Linux: backlog+1)  ☎ 1 waiting",
                        "  c2  pid 102  BLOCKED in connect(3): the listener's queue is full",
                        "    fd 3 STREAM active  CONNECTING → s (queue full)  ☎ line busy"]
    assert "▸ c5  pid 105  BLOCKED in connect(3): the listener's queue is full" in rows


def test_the_smallest_compact_panel_keeps_the_current_process_before_the_idle_line():
    """At 13 rows or fewer (a tmux split) the compact panel has 3 lines: the line of idle processes took the
    place of the current one, which vanished from the panel."""
    table = SocketTable({10: sock(10, state=10, name=b"srv.sock", vfs=(1, 99))}, False)
    procs = [ProcessFacts(n, 10 + i, 0, n == "server", None, {3: FdTarget(3, 10, None)} if n == "server" else {},
                          TaskState("S", 0, (0,), None)) for i, n in enumerate(["server", "b", "c"])]
    assert plain(panel_lines(build(procs, table, [], "/scratch"), 60, 3, "compact")).splitlines() == [
        "▸ server  pid 10  idle  (1 fd not shown)",
        "  … 2 more lines (b, c): state prints them all",
        "socket files: none",
    ]


def test_panel_measures_wide_characters_and_cuts_at_a_word():
    table = SocketTable({10: sock(10, state=10, name="套接字套接字套接字套接字.sock".encode(), wq=5, vfs=(1, 99))},
                        False)
    procs = [ProcessFacts("server", 100, 0, True, None, {3: FdTarget(3, 10, None)}, TaskState("S", 0, (0,), None))]
    rows = plain(panel_lines(build(procs, table, [], "/scratch"), 60)).splitlines()
    assert rows[1] == "    fd 3 STREAM passive LISTEN …接字套接字.sock pending 0/5"  # the name gives way, not the queue
    assert all(cells(row) <= 60 for row in rows)


def test_ss_columns():
    rows = plain(ss_lines(backlog_snapshot())).splitlines()
    assert rows[0].split() == ["Netid", "State", "Recv-Q", "Send-Q", "Local", "Address:Port", "Peer",
                               "Address:Port", "Process"]
    assert rows[1].split() == ["u_str", "LISTEN", "2", "1", "srv.sock", "10", "*", "0",
                               'users:(("server",pid=100,fd=3))']


@pytest.mark.parametrize("args,words", [
    (("STREAM", "UNCONNECTED"), "☎ a phone, no number yet"),
    (("STREAM", "BOUND"), "☎ a phone with a number"),
    (("STREAM", "LISTEN"), "☎ ringer on"),
    (("STREAM", "LISTEN", {"pending": 1}), "☎ ringer on, 1 caller waiting"),
    (("STREAM", "LISTEN", {"blocked": "accept"}), "☎ ringer on, waiting by the phone"),
    (("STREAM", "CONNECTING"), "☎ calling: line busy, waiting"),
    (("STREAM", "CONNECTED", {"accepted": False}), "☎ ringing: not picked up yet"),
    (("STREAM", "CONNECTED"), "☎ in a call"),
    (("STREAM", "CONNECTED", {"shutdown": "read"}), "☎ in a call; the other side stopped talking"),
    (("STREAM", "PEER-CLOSED"), "☎ the other side hung up"),
    (("DGRAM", "UNCONNECTED"), "✉ a mailbox, no address yet"),
    (("DGRAM", "BOUND", {"unread": 5}), "✉ a mailbox with an address; letters waiting (first 5 B)"),
    (("DGRAM", "BOUND", {"blocked": "recvfrom"}), "✉ checking the mailbox, waiting for a letter"),
])
def test_analogy_words(args, words):
    facts = args[2] if len(args) > 2 else {}
    assert analogy.label(args[0], args[1], **facts) == words


def test_a_queued_current_client_keeps_the_listener_and_its_queue_in_view():
    """c1 current, its call still in the queue: `pending 2/1` stayed hidden while p1 (no sockets) was shown."""
    snapshot = backlog_snapshot(current="c1", p1=True, c3_blocked=False)
    lines = plain(panel_lines(snapshot, 60, 6, "compact")).splitlines()
    assert lines[0].startswith("  server") and "pending 2/1" in lines[1]
    assert any(line.startswith("▸ c1") for line in lines) and any("(queued)" in line for line in lines)
    assert all(cells(line) <= 60 for line in lines)


def test_getsockname_prints_the_family_the_kernel_returned(typed):
    """An AF_INET socket's name is a sockaddr_in (16 bytes), as Python's getsockname and strace read it."""
    witness = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with witness:
        assert witness.getsockname() == ("0.0.0.0", 0)
    typed("spawn a", "socket AF_INET SOCK_STREAM")
    assert typed("getsockname 3") == ('[a] getsockname(3, {sa_family=AF_INET, sin_port=htons(0), '
                                      'sin_addr=inet_addr("0.0.0.0")}, [110 => 16]) = 0')
    if socket.has_ipv6 and "= 4" in typed("socket AF_INET6 SOCK_STREAM"):
        assert typed("getsockname 4") == ('[a] getsockname(4, {sa_family=AF_INET6, sin6_port=htons(0), '
                                          'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), '
                                          'sin6_scope_id=0}, [110 => 28]) = 0')


def test_an_inet_address_is_quoted_as_strace_quotes_it():
    """strace: getpeername(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, [16])."""
    assert sockaddr(bytes([0, 9, 127, 0, 0, 1]) + bytes(8), 2) == \
        '{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}'
    assert sockaddr(b"\x01\x02", 16) == '{sa_family=16, sa_data="\\1\\2"}'
