"""`why`: each case built for real, then the pure explainer read as a table, and `sockrepl run` end to end.

One in-process session builds every situation against the kernel (one process per
case, so each case is that process's last call); the table then checks, for each,
the claims and where their evidence comes from. The explainer gets only the
snapshot and the history, so these are its inputs exactly as the kernel made them.
"""

import os

import pytest
from wcwidth import wcswidth

from sockrepl.calllog import CallRecord
from sockrepl.explain import notes
from sockrepl.why import Reason, explain_call, target
from tests.conftest import FIRST_LINE, Transcript, normalize, run_sockrepl
from tests.test_repl import Terminal, phone_setup

STEPS = """\
spawn srv c1 c2 c3 c4 acc mb snd rd full ab1 ab2 e1 e2 e3 st e4 e5 pipe sig dga dgb nb eof shut u
srv: socket AF_UNIX SOCK_STREAM
srv: bind 3 srv.sock
srv: listen 3 1
c1: socket AF_UNIX SOCK_STREAM
c1: connect 3 srv.sock
srv: accept 3
c3: socket AF_UNIX SOCK_STREAM
c3: connect 3 srv.sock
c3: send 3 "hi"
c2: socket AF_UNIX SOCK_STREAM
c2: connect 3 srv.sock
c4: socket AF_UNIX SOCK_STREAM
c4: connect 3 srv.sock
srv: recv 4
acc: socket AF_UNIX SOCK_STREAM
acc: bind 3 acc.sock
acc: listen 3 5
acc: accept 3
mb: socket AF_UNIX SOCK_DGRAM
mb: bind 3 mb.sock
mb: recvfrom 3 10
snd: socketpair AF_UNIX SOCK_STREAM
snd: send 3 "x"*400000
ab1: socket AF_UNIX SOCK_DGRAM
ab1: bind 3 @why-{run}
ab2: socket AF_UNIX SOCK_DGRAM
ab2: bind 3 @why-{run}
e1: socket AF_UNIX SOCK_STREAM
e1: connect 3 nowhere.sock
e2: socket AF_UNIX SOCK_STREAM
e2: bind 3 later.sock
e3: socket AF_UNIX SOCK_STREAM
e3: connect 3 later.sock
st: socket AF_UNIX SOCK_STREAM
st: bind 3 stale.sock
st: listen 3 1
kill st SIGKILL
e4: socket AF_UNIX SOCK_STREAM
e4: connect 3 stale.sock
e4: socket AF_UNIX SOCK_STREAM
e4: bind 4 stale.sock
e5: socket AF_UNIX SOCK_STREAM
e5: bind 3 srv.sock
e5: accept 3
e5: socket AF_UNIX SOCK_DGRAM
e5: listen 4 1
acc: interrupt
pipe: socket AF_UNIX SOCK_STREAM
pipe: connect 3 acc.sock
acc: accept 3
acc: close 4
pipe: signal SIGPIPE ignore
pipe: write 3 "x"
sig: socket AF_UNIX SOCK_STREAM
sig: connect 3 acc.sock
acc: accept 3
acc: close 4
sig: write 3 "x"
dga: socket AF_UNIX SOCK_DGRAM
dga: bind 3 dga.sock
dgb: socket AF_UNIX SOCK_DGRAM
dgb: sendto 3 "hello world" dga.sock
dga: recvfrom 3 5
dgb: sendto 3 "hi" dga.sock
full: socket AF_UNIX SOCK_DGRAM
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
full: sendto 3 "x" dga.sock
rd: socket AF_UNIX SOCK_DGRAM
rd: bind 3 rd.sock
dgb: sendto 3 "hi" rd.sock
rd: recvfrom 3 10
rd: sendto(3, "x", 1, 0, "", 0)
nb: socket AF_UNIX SOCK_STREAM|SOCK_NONBLOCK
nb: connect 3 srv.sock
eof: socket AF_UNIX SOCK_STREAM
eof: connect 3 acc.sock
acc: accept 3
acc: close 4
eof: read 3
shut: socket AF_UNIX SOCK_STREAM
shut: connect 3 acc.sock
acc: accept 3
shut: shutdown 3 SHUT_WR
acc: recv 4
"""


@pytest.fixture(scope="module")
def built():
    """The session after STEPS, its snapshot and history: the explainer's inputs, from the real kernel."""
    cwd = os.getcwd()
    transcript = Transcript()
    text = transcript(*STEPS.replace("{run}", str(os.getpid())).splitlines())  # abstract names: machine-wide
    if os.geteuid() == 0:
        transcript("kill u SIGKILL", "spawn --unprivileged u")
    else:
        transcript("srv: chmod srv.sock 0500")
    text += transcript("u: socket AF_UNIX SOCK_STREAM", "u: connect 3 srv.sock")
    yield transcript.session, transcript.snapshot(), transcript.session.history, text
    transcript.close()
    os.chdir(cwd)


def reasons_of(built, process: str, fd: int | None = None) -> list[Reason]:
    _, snapshot, history, _ = built
    record = target(history, process, fd)
    assert record is not None, process
    return explain_call(record, snapshot, history)


# (process, fd): the claims, in order, each with a fragment and where its evidence comes from
TABLE = {
    ("c4", None): [("c4 is blocked in connect(3) → srv.sock: the line is busy.", "kernel"),
                   ("The listener (srv fd 3) already holds 2 callers waiting; with listen(3, 1) Linux queues "
                    "backlog + 1 = 2.", "kernel"),
                   ("It goes on when srv picks up (`srv: accept 3`), or fails if the listener closes.", None)],
    ("srv", 4): [("srv is blocked in recv(4): nothing has arrived on this connection yet.", "kernel"),
                 ("fd 4's connection (to c1 fd 3) has no unread bytes.", "kernel"),
                 ("c3 sent 2 bytes, but on its own call, not yet picked up: `srv: accept 3` gives you that "
                  "connection as a new fd.", "session"),
                 ("The kernel holds it in srv fd 3's queue, where no fd reaches it.", "kernel"),
                 ("It goes on when c1 sends", None)],
    ("c2", None): [("connect(3) → srv.sock returned 0: connected.", "session"),
                   ("Nobody has accepted it yet: Linux completes the call in the listener's queue", "kernel"),
                   ("What you send now waits in that queue", None)],
    ("mb", None): [("mb is blocked in recvfrom(3): the mailbox is empty.", "kernel"),
                   ("No datagram is queued on fd 3.", "kernel"),
                   ("It goes on when a letter arrives", None)],
    ("snd", None): [("snd is blocked in send(3): the receiver's buffer is full: nobody reads on the other side.",
                     "kernel"),
                    ("snd fd 4 has ", "kernel"),
                    ("It goes on when snd reads (`snd: recv 4 100000`).", None)],
    ("full", None): [("full is blocked in sendto(3) → dga.sock: the receiver's mailbox is full.", "kernel"),
                     ("dga fd 3 has not collected its letters: Linux queues net.unix.max_dgram_qlen + 1", "kernel"),
                     ("It goes on when dga takes one (`dga: recvfrom 3 100`).", None)],
    ("ab2", None): [("bind(3) → @why-", "session"),
                    ("ab1 fd 3 holds @why-", "kernel")],
    ("e1", None): [("connect(3) → nowhere.sock failed with ENOENT: ", "session"),
                   ("There is no file at nowhere.sock: nobody has bound that path.", "kernel")],
    ("e3", None): [("connect(3) → later.sock failed with ECONNREFUSED: ", "session"),
                   ("Not listening yet: e2 fd 3 is bound to later.sock but has not called listen "
                    "(`e2: listen 3 5` turns the ringer on).", "kernel")],
    ("e4", 3): [("connect(3) → stale.sock failed with ECONNREFUSED: ", "session"),
                ("stale.sock is a stale socket file: no socket is bound to it any more", "kernel"),
                ("st fd 3 bound it; then st was killed by SIGKILL", "session"),
                ("The server must `unlink stale.sock`, then bind and listen again.", None)],
    ("e4", 4): [("bind(4) → stale.sock failed with EADDRINUSE: ", "session"),
                ("stale.sock is a stale socket file: nobody holds it", "kernel"),
                ("st fd 3 bound it; then st was killed by SIGKILL", "session"),
                ("`unlink stale.sock`, then bind again.", None)],
    ("e5", 3): [("accept(3) failed with EINVAL: this socket is not listening", "session"),
                ("fd 3 is not listening (it is UNCONNECTED): `listen 3 5` first.", "kernel")],
    ("e5", 4): [("listen(4) failed with EOPNOTSUPP: a datagram socket cannot listen", "session"),
                ("fd 4 is a datagram socket: mailboxes do not ring", "kernel")],
    ("pipe", None): [("write(3) failed with EPIPE: ", "session"),
                     ("acc fd 4, the other end, hung up.", "session")],
    ("sig", None): [("sig was killed by SIGPIPE in write(3).", "session"),
                    ("It wrote to a connection whose other side had hung up", None),
                    ("acc fd 4, the other end, hung up.", "session"),
                    ("`signal sig SIGPIPE ignore` makes such a write return -1 EPIPE.", None)],
    ("dga", None): [("recvfrom(3) returned 5: truncated: the datagram had 11 bytes, the buffer 5; the other 6 "
                     "are lost.", "session"),
                    ("A datagram is read whole or cut", "session"),
                    ("Also: the sender has no address (it never called bind), so there is no way to reply.",
                     "session")],
    ("rd", None): [("sendto(3) failed with ENOTCONN: ", "session"),
                   ("The letter you answer had no return address: its sender never called bind", "session")],
    ("nb", None): [("connect(3) → srv.sock failed with EAGAIN: non-blocking and the line is busy", "session"),
                   ("Blocking, it would have waited: the line is busy.", None),
                   ("The listener (srv fd 3) already holds 2 callers waiting", "kernel"),
                   ("A retry succeeds once srv picks up (`srv: accept 3`)", None),
                   ("The socket was made non-blocking", "session")],
    ("eof", None): [("read(3) returned 0: 0 bytes = end of file", "session"),
                    ("The other end is closed: its socket is gone.", "kernel"),
                    ("acc fd 4, the other end, hung up.", "session")],
    ("acc", None): [("recv(4) returned 0: 0 bytes = end of file", "session"),
                    ("The other side shut its writing side (SHUT_WR): no more data will come.", "kernel"),
                    ("shut fd 3, the other end, hung up.", "session")],
    ("u", None): [("connect(3) → srv.sock failed with EACCES: no write permission on the socket file", "session"),
                  ("u runs as uid ", "kernel")],
}


@pytest.mark.parametrize("case", sorted(TABLE, key=str), ids=lambda case: f"{case[0]}-fd{case[1]}")
def test_explainer_table(built, case):
    got = [(r.claim, r.evidence_source) for r in reasons_of(built, *case)]
    expected = TABLE[case]
    assert len(got) == len(expected), got
    for (claim, source), (fragment, want) in zip(got, expected, strict=True):
        assert claim.startswith(fragment) or fragment in claim, (claim, fragment)
        assert source == want, (claim, source, want)


def test_evidence_names_its_kernel_source(built):
    """Kernel evidence is what the kernel exposes now; session evidence cites the line and its number."""
    c4 = reasons_of(built, "c4")
    assert c4[0].evidence.startswith(f"/proc/{built[1].process('c4').pid}/syscall: in connect, state S")
    assert c4[1].evidence == "sock_diag: STREAM srv.sock LISTEN, Recv-Q 2, Send-Q 1"
    trap = reasons_of(built, "srv", 4)
    assert trap[2].evidence.startswith('`c3: send 3 "hi"` (#')
    assert "UNIX_DIAG_ICONS lists c3's socket" in trap[3].evidence and "(memory, not bytes)" in trap[3].evidence


def test_the_headline_is_the_note_under_the_call(built):
    """The `↳` lines and `why` come from one place: `why` starts with the first note and says every one."""
    _, snapshot, history, _ = built
    checked = 0
    for record in history:
        if isinstance(record, CallRecord) and record.outcome is not None and record.phase in ("done", "resumed"):
            said = notes(record.command, record.outcome)
            claims = [r.claim for r in explain_call(record, snapshot, history)]
            if said:
                assert said[0] in claims[0], record
                assert all(any(text in claim for claim in claims) for text in said), record
                checked += 1
    assert checked >= 12


def test_the_explainer_is_pure(built):
    """Same inputs, same reasons; nothing in the snapshot or history changes."""
    _, snapshot, history, _ = built
    record = target(history, "srv", 4)
    before = (snapshot, history)
    assert explain_call(record, snapshot, history) == explain_call(record, snapshot, history)
    assert (snapshot, history) == before


WHY_SCRIPT = """\
why
spawn server c1 c2 c3
why
server: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: listen 3 1
server: accept 3
why
c1: socket AF_UNIX SOCK_STREAM
c1: connect 3 srv.sock
c2: socket AF_UNIX SOCK_STREAM
c2: connect 3 srv.sock
c3: socket AF_UNIX SOCK_STREAM
c3: connect 3 srv.sock
c3: send 3 "x"
c2: send 2 "x"
why c2 fd 3
why c3 fd 3
why c9
why c3 3
use c1
why fd 7
why server fd 3
"""


def test_why_before_any_process_says_so(typed):
    """A session starts empty where no front end spawns p1 first: a lesson's, before its first spawn."""
    assert typed("why") == "no process yet, so no call to explain: spawn NAME starts one"


def test_why_end_to_end():
    result = run_sockrepl(WHY_SCRIPT)
    out = result.stdout.decode()
    lines = out.splitlines()
    assert lines[1] == "p1 has made no call yet: nothing to explain"  # a run starts with p1, as the REPL does
    assert lines[3] == "server has made no call yet: nothing to explain"
    start = lines.index("server is blocked in accept(3): nobody has called yet.")
    assert lines[start + 1].startswith("      evidence (kernel, now): /proc/")
    queue = lines.index("  No call waits in fd 3's queue.")
    assert start < queue < start + 4 and lines[queue + 1:queue + 2] == [
        "      evidence (kernel, now): sock_diag: STREAM srv.sock LISTEN, Recv-Q 0, Send-Q 1"]
    assert "send(3) returned 1, as asked: nothing to explain." in lines  # c3 fd 3
    assert "connect(3) → srv.sock returned 0: connected." in lines  # c2 fd 3: not its last call (send 2)
    assert "error: no process named 'c9' (processes: p1, server, c1, c2, c3)" in out
    assert "error: why: after the process name, say which fd as: fd N" in out
    assert "c1 has made no call on fd 7 yet: nothing to explain" in lines
    assert "accept(3) returned 4, as asked: nothing to explain." in lines  # released by c1, the last on fd 3
    assert result.returncode == 2  # the malformed `why c3 3`


ORIGIN_SCRIPT = """\
socket AF_UNIX SOCK_STREAM
why p1 fd 3
bind 3 s.sock
listen 3 1
socketpair AF_UNIX SOCK_DGRAM
why p1 fd 5
spawn c
socket AF_UNIX SOCK_STREAM
connect 3 s.sock
p1: accept 3
why p1 fd 6
why p1 fd 4
"""


def test_why_on_a_new_fd_names_the_call_that_made_it():
    """socket, socketpair (both fds) and accept (its new fd) count as calls on the fd they made."""
    result = run_sockrepl(ORIGIN_SCRIPT)
    assert normalize(result.stdout.decode()).splitlines() == [
        FIRST_LINE,
        "[p1] socket(AF_UNIX, SOCK_STREAM, 0) = 3",
        "socket() returned 3, as asked: nothing to explain.",
        "      evidence (session record): #1: = 3",
        '[p1] bind(3, {sa_family=AF_UNIX, sun_path="s.sock"}, 8) = 0',
        "[p1] listen(3, 1) = 0",
        "[p1] socketpair(AF_UNIX, SOCK_DGRAM, 0, [4, 5]) = 0",
        "socketpair() returned 0, as asked: nothing to explain.",
        "      evidence (session record): #4: = 0, fds [4, 5]",
        "spawned c (pid N); current process: c",
        "[c] socket(AF_UNIX, SOCK_STREAM, 0) = 3",
        '[c] connect(3, {sa_family=AF_UNIX, sun_path="s.sock"}, 8) = 0',
        "[p1] accept(3, NULL, NULL) = 6",
        "accept(3) returned 6, as asked: nothing to explain.",
        "      evidence (session record): #7: = 6",
        "socketpair() returned 0, as asked: nothing to explain.",
        "      evidence (session record): #4: = 0, fds [4, 5]",
    ]
    assert result.returncode == 0


def test_help_and_man_why_and_a_stopped_process():
    result = run_sockrepl("help why\nman why\nspawn s\ns: socket AF_UNIX SOCK_STREAM\ns: bind 3 x.sock\n"
                          "s: listen 3 1\ns: accept 3\nkill s SIGSTOP\nwhy\n")
    lines = result.stdout.decode().splitlines()
    assert lines[1] == "why [NAME] [fd N]" and lines.count("why [NAME] [fd N]") == 2  # man why: the same entry
    assert "  example: why c3" in lines
    assert any(line.startswith("  Each claim is followed by its evidence") for line in lines)
    assert "s is blocked in accept(3): nobody has called yet." in lines
    assert any(line.startswith("      evidence (kernel, now): /proc/") and "state T (stopped), in accept" in line
               for line in lines)
    assert "  s is also stopped: even released, it goes on only after `kill s SIGCONT`." in lines


@pytest.mark.parametrize("columns, rows", [(80, 24), (60, 20), (120, 35)])
def test_why_in_the_repl_fits_the_screen(tmp_path, columns, rows):
    """Typed at a real terminal: the reasons wrap to its width, the evidence stays under its claim."""
    term = Terminal(tmp_path, columns=columns, rows=rows)
    try:
        term.wait_for(r"^p1>")
        phone_setup(term)
        term.type("accept 3", r"<unfinished \.\.\.>")
        since = len(term.seen)
        term.type("why", r"^server is blocked in accept\(3\)")
        term.wait_for(r"^\s+evidence \(kernel, now\): sock_diag: STREAM")
        seen = term.transcript()
        assert "nobody has called yet." in seen and "No call waits in fd 3's queue." in seen
        printed = term.printed(since)
        assert printed[0] == "server is blocked in accept(3): nobody has called yet.", printed
        too_wide = [line for line in printed if not 0 <= wcswidth(line) <= columns]  # -1: a control character
        assert not too_wide, f"wider than {columns} columns (the terminal wraps them):\n" + "\n".join(too_wide)
    finally:
        term.close()
