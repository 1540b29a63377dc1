"""sockrepl.kernel against the real kernel: real sockets, real child processes, and
`ss` from iproute2 as the independent witness. No mocks, no sleeps."""

import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from sockrepl import kernel, procfs
from sockrepl.kernel import UnixSocket, parse_proc_net_unix, read_unix_sockets
from sockrepl.procfs import FdTarget, SignalMasks, fd_table, signal_masks, syscall_name, syscall_number, task_state

SS = "/usr/bin/ss"
SS_STATES = {1: "ESTAB", 7: "UNCONN", 10: "LISTEN"}


def ino(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


def ss(flags: str) -> dict[int, dict]:
    """`ss -x<flags>H` rows by local inode: the kernel's view through iproute2."""
    out = subprocess.run([SS, f"-x{flags}H"], capture_output=True, check=True).stdout
    rows = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():  # other programs' names: any bytes
        t = line.split()
        if len(t) < 7 or not t[-3].isdigit() or not t[-1].isdigit():
            continue  # another program's row whose name holds spaces or newlines: not ours to read
        rows[int(t[-3])] = {"netid": t[0], "state": t[1], "recvq": int(t[2]),
                            "sendq": int(t[3]), "local": " ".join(t[4:-3]),
                            "peer": int(t[-1])}
    return rows


def wait_for(check, what: str, timeout: float = 5.0):
    """Poll `check` until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        os.sched_yield()


@pytest.fixture
def socks():
    """Make AF_UNIX sockets that are all closed after the test."""
    made = []

    def make(type_=socket.SOCK_STREAM, pair=False):
        if pair:
            new = socket.socketpair(socket.AF_UNIX, type_)
            made.extend(new)
            return new
        made.append(socket.socket(socket.AF_UNIX, type_))
        return made[-1]

    make.adopt = made.append
    yield make
    for s in made:
        s.close()


@pytest.fixture
def child():
    """Start `python -c CODE` children (stdin/stdout pipes); all killed after the test."""
    procs = []

    def start(code: str) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()


def test_listener_backlog_pending_and_icons_match_ss(tmp_path, socks):
    path = str(tmp_path / "l.sock")
    lst = socks()
    lst.bind(path)
    lst.listen(1)
    c1, c2 = socks(), socks()
    c1.connect(path)
    c2.connect(path)                                 # backlog 1 queues 2 on Linux
    table = read_unix_sockets()
    assert table.limited is False
    me = table.sockets[ino(lst)]
    st = os.stat(path)
    assert (me.type, me.state, me.rqueue, me.wqueue) == (1, 10, 2, 1)
    assert me.icons == (ino(c1), ino(c2))
    assert me.name == path.encode()
    assert me.vfs == (st.st_dev, st.st_ino)
    assert (me.peer, me.uid, me.shutdown) == (0, os.getuid(), 0)
    row = ss("l")[ino(lst)]
    assert (row["state"], row["recvq"], row["sendq"], row["local"]) == ("LISTEN", 2, 1, path)
    # A client whose connection is not accepted yet is ESTAB with PEER 0: the
    # server-side half exists but has no inode until accept().
    pending = table.sockets[ino(c1)]
    assert (pending.state, pending.peer, pending.name) == (1, 0, None)

    served, _ = lst.accept()
    socks.adopt(served)
    after = read_unix_sockets().sockets
    assert after[ino(lst)].icons == (ino(c2),)
    assert after[ino(lst)].rqueue == 1
    assert after[ino(c1)].peer == ino(served)
    assert after[ino(served)].peer == ino(c1)
    # The accepted socket shares the listener's address and socket file.
    assert (after[ino(served)].name, after[ino(served)].vfs) == (path.encode(), me.vfs)


def test_stream_unread_bytes_and_socketpair_peers(socks):
    a, b = socks(pair=True)
    a.send(b"hello")
    table = read_unix_sockets().sockets
    sa, sb = table[ino(a)], table[ino(b)]
    assert (sa.peer, sb.peer) == (ino(b), ino(a))
    assert (sa.type, sa.state, sb.state) == (1, 1, 1)
    assert (sa.rqueue, sb.rqueue) == (0, 5)
    rows = ss("a")
    assert rows[ino(b)]["recvq"] == 5
    assert rows[ino(b)]["peer"] == ino(a)


def test_datagram_queue_counts_first_datagram_and_abstract_name(socks):
    name = f"\0sockrepl-test-{uuid.uuid4().hex[:12]}"
    rx, tx, conn = socks(socket.SOCK_DGRAM), socks(socket.SOCK_DGRAM), socks(socket.SOCK_DGRAM)
    rx.bind(name)
    tx.sendto(b"abc", name)
    tx.sendto(b"hello", name)
    conn.connect(name)
    table = read_unix_sockets().sockets
    r, c = table[ino(rx)], table[ino(conn)]
    assert r.name == name.encode()
    assert r.rqueue == 3                             # first datagram only, as FIONREAD
    assert (r.type, r.peer) == (2, 0)
    assert (c.state, c.peer) == (1, ino(rx))
    assert table[ino(tx)].state == 7
    rows = ss("a")
    assert rows[ino(rx)]["recvq"] == 3
    assert rows[ino(rx)]["local"] == "@" + name[1:]
    assert rows[ino(conn)]["peer"] == ino(rx)


def test_states_types_and_queues_agree_with_ss(tmp_path, socks):
    lst = socks()
    lst.bind(str(tmp_path / "s.sock"))
    lst.listen(3)
    seq = socks(socket.SOCK_SEQPACKET)
    rx, tx = socks(socket.SOCK_DGRAM), socks(socket.SOCK_DGRAM)
    rx.bind(str(tmp_path / "d.sock"))
    tx.sendto(b"x" * 100, str(tmp_path / "d.sock"))  # charged to tx until read
    made = [lst, seq, rx, tx, *socks(socket.SOCK_SEQPACKET, pair=True)]
    table, rows = read_unix_sockets().sockets, ss("a")
    netids = {1: "u_str", 2: "u_dgr", 5: "u_seq"}
    assert table[ino(seq)].type == 5
    assert table[ino(tx)].wqueue > 100
    for s in made:
        mine, theirs = table[ino(s)], rows[ino(s)]
        assert (netids[mine.type], SS_STATES[mine.state], mine.rqueue, mine.wqueue, mine.peer) == \
            (theirs["netid"], theirs["state"], theirs["recvq"], theirs["sendq"], theirs["peer"])


def test_shutdown_bits(tmp_path, socks):
    path = str(tmp_path / "x.sock")
    lst, cli = socks(), socks()
    lst.bind(path)
    lst.listen(1)
    cli.connect(path)
    served, _ = lst.accept()
    socks.adopt(served)
    assert read_unix_sockets().sockets[ino(cli)].shutdown == 0
    cli.shutdown(socket.SHUT_WR)                     # the peer sees it as RCV_SHUTDOWN
    table = read_unix_sockets().sockets
    assert (table[ino(cli)].shutdown, table[ino(served)].shutdown) == (2, 1)
    served.close()
    assert read_unix_sockets().sockets[ino(cli)].shutdown == 3


def test_fd_table_of_this_process(socks):
    s = socks()
    with open(os.devnull) as f:
        table = fd_table(os.getpid())
        assert table[s.fileno()] == FdTarget(s.fileno(), ino(s), None)
        assert table[f.fileno()] == FdTarget(f.fileno(), None, "/dev/null")


def test_dead_process_reads_as_none():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    assert task_state(p.pid) is None
    assert fd_table(p.pid) is None
    assert signal_masks(p.pid) is None


def wait_blocked(p, call: str, fd: int):
    """The child's task state once it sleeps in `call` on `fd`."""

    def blocked():
        ts = task_state(p.pid)
        return ts if ts and ts.state == "S" and ts.syscall == syscall_number(call) \
            and ts.args[:1] == (fd,) else None

    return wait_for(blocked, f"the child to block in {call}")


def test_task_state_blocked_in_accept(tmp_path, child):
    path = str(tmp_path / "a.sock")
    p = child("import socket\n"
              f"s = socket.socket(socket.AF_UNIX); s.bind({path!r}); s.listen()\n"
              "print(s.fileno(), flush=True); s.accept()")
    fd = int(p.stdout.readline())
    ts = wait_blocked(p, "accept4", fd)
    assert syscall_name(ts.syscall) == "accept4"     # CPython's accept() is accept4
    assert len(ts.args) == 6
    assert ts.args[3] == socket.SOCK_CLOEXEC
    assert fd_table(p.pid)[fd].inode is not None


def test_task_state_blocked_in_connect(tmp_path, socks, child):
    path = str(tmp_path / "full.sock")
    lst, first = socks(), socks()
    lst.bind(path)
    lst.listen(0)                                    # holds backlog + 1 = 1 pending
    first.connect(path)
    p = child("import socket\n"
              "s = socket.socket(socket.AF_UNIX); print(s.fileno(), flush=True)\n"
              f"s.connect({path!r})")
    fd = int(p.stdout.readline())
    ts = wait_blocked(p, "connect", fd)
    assert ts.wchan == "unix_wait_for_peer"
    inode = fd_table(p.pid)[fd].inode
    me = read_unix_sockets().sockets[inode]
    assert (me.state, me.peer) == (7, 0)             # blocked connector: still UNCONN
    assert read_unix_sockets().sockets[ino(lst)].icons == (ino(first),)


def test_signal_masks(child):
    p = child("import signal, sys\n"
              "for line in sys.stdin:\n"
              "    if line == 'dfl\\n': signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
              "    if line == 'ign\\n': signal.signal(signal.SIGPIPE, signal.SIG_IGN)\n"
              "    if line == 'blk\\n': signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])\n"
              "    print('ok', flush=True)\n")

    def step(cmd: str) -> SignalMasks:
        p.stdin.write(cmd + "\n")
        p.stdin.flush()
        assert p.stdout.readline() == "ok\n"
        return signal_masks(p.pid)

    pipe, usr1 = 1 << (signal.SIGPIPE - 1), 1 << (signal.SIGUSR1 - 1)
    sigint = 1 << (signal.SIGINT - 1)
    assert step("dfl").ignored & pipe == 0
    m = step("ign")
    assert m.ignored & pipe == pipe
    assert m.caught & sigint == sigint               # Python's KeyboardInterrupt handler
    m = step("blk")
    assert (m.blocked & usr1, m.pending & usr1) == (usr1, 0)
    os.kill(p.pid, signal.SIGUSR1)                   # generated at once, held while blocked
    assert signal_masks(p.pid).pending & usr1 == usr1


PROC_SAMPLE = """\
Num       RefCount Protocol Flags    Type St Inode Path
0000000018738270: 00000003 00000000 00000000 0001 03  1675
00000000d1ba2e6e: 00000003 00000000 00000000 0001 02     0 /tmp/l.sock
0000000068eaeafe: 00000002 00000000 00010000 0001 01 17641 /tmp/l.sock
000000007f6a8d85: 00000003 00000000 00000000 0002 03 17644 @absx
0000000011111111: 00000002 00000000 00000000 0002 01 17646
0000000022222222: 00000002 00000000 00000000 0005 01 123456 /tmp/with space
"""


def test_parse_proc_net_unix_sample():
    def sock(inode, type_, state, name):
        return UnixSocket(inode, type_, state, name, None, 0, (), 0, 0, None, None)

    assert parse_proc_net_unix(PROC_SAMPLE) == {
        1675: sock(1675, 1, 1, None),
        17641: sock(17641, 1, 10, b"/tmp/l.sock"),
        17644: sock(17644, 2, 1, b"\0absx"),
        17646: sock(17646, 2, 7, None),
        123456: sock(123456, 5, 7, b"/tmp/with space"),
    }


def test_proc_net_unix_agrees_with_netlink(tmp_path, socks):
    lst = socks()
    lst.bind(str(tmp_path / "p.sock"))
    lst.listen(1)
    cli = socks()
    cli.connect(str(tmp_path / "p.sock"))
    dg = socks(socket.SOCK_DGRAM)
    dg.bind(f"\0sockrepl-test-{uuid.uuid4().hex[:12]}")
    made = [lst, cli, dg, socks(socket.SOCK_SEQPACKET), *socks(pair=True)]
    full = read_unix_sockets().sockets
    with open("/proc/net/unix", encoding="utf-8", errors="surrogateescape") as f:  # any name, machine-wide
        limited = parse_proc_net_unix(f.read())
    for s in made:
        a, b = full[ino(s)], limited[ino(s)]
        assert (a.inode, a.type, a.state, a.name) == (b.inode, b.type, b.state, b.name)
    assert 0 not in limited                          # the pending server half is skipped


def test_syscall_table():
    required = ["read", "write", "openat", "connect", "accept", "accept4", "sendto",
                "recvfrom", "sendmsg", "recvmsg", "wait4", "nanosleep", "clock_nanosleep",
                "ppoll", "pselect6", "futex", "rt_sigsuspend"]
    for name in required:
        assert syscall_name(syscall_number(name)) == name
    for table in procfs._SYSCALLS.values():          # no number used twice
        assert len(set(table.values())) == len(table)
    assert syscall_name(99999) == "syscall_99999"
    assert syscall_number("no_such_call") is None
    if platform.machine() == "x86_64":
        names = ("read", "connect", "accept", "recvfrom", "accept4", "pause", "poll", "select")
        assert [syscall_number(n) for n in names] == [0, 42, 43, 45, 288, 34, 7, 23]
    assert procfs._SYSCALLS["aarch64"]["accept4"] == 242
    assert "pause" not in procfs._SYSCALLS["aarch64"]


def test_dumps_leak_no_fd():
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        read_unix_sockets()
    assert len(os.listdir("/proc/self/fd")) == before


def test_one_socket_by_inode_without_a_dump():
    """The exact lookup the call log uses at each tied call: same facts as the dump, None once gone."""
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        inode_a, inode_b = os.fstat(a.fileno()).st_ino, os.fstat(b.fileno()).st_ino
        one = kernel.read_unix_socket(inode_a)
        assert one is not None and one.peer == inode_b and one == kernel.read_unix_sockets().sockets[inode_a]
    assert kernel.read_unix_socket(inode_a) is None


def test_another_programs_odd_socket_name_breaks_no_reader():
    """A name with a non-UTF-8 byte, a space and a newline, held by 'another program' (this test)."""
    odd = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        odd.bind(b"\0odd\xff name\n" + str(os.getpid()).encode())
        odd.listen(1)
        mine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        mine.bind(f"\0plain-{os.getpid()}")
        mine.listen(1)
        assert ss("l")[ino(mine)]["state"] == "LISTEN"
        with open("/proc/net/unix", encoding="utf-8", errors="surrogateescape") as table:
            assert ino(mine) in kernel.parse_proc_net_unix(table.read())
        assert ino(mine) in kernel.read_unix_sockets().sockets
        mine.close()
    finally:
        odd.close()
