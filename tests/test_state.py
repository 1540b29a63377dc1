"""The snapshot tells the kernel's truth: cross-checked with `ss -xap` and /proc at every step."""

import json
import os
import re
import socket
import subprocess

import pytest

from sockrepl import analogy, kernel, procfs

SS_STATE = {"LISTEN": 10, "ESTAB": 1, "UNCONN": 7}
USERS = re.compile(r"pid=(\d+),fd=(\d+)")


def ss_rows(pids: set[int]) -> dict[int, dict]:
    """`ss -xapH` by inode, for the sockets these pids hold: netid, state, queues, peer inode, holders.

    The dump is machine-wide: other programs' socket names may be any bytes (hence surrogateescape)
    and any shape (spaces), so only the rows a session process holds are parsed.
    """
    out = subprocess.run(["ss", "-xapH"], capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    rows = {}
    for line in out.splitlines():
        if not {int(p) for p, _fd in USERS.findall(line)} & pids:
            continue
        fields = line.split()
        netid, state, recvq, sendq, _local, inode, _peer, peer = fields[:8]
        rows[int(inode)] = {"netid": netid, "state": state, "recvq": int(recvq), "sendq": int(sendq),
                            "peer": int(peer), "holders": {(int(p), int(f)) for p, f in USERS.findall(line)}}
    return rows


def assert_agrees_with_ss(snapshot):
    """Every socket of the snapshot: same queues, state, peer and holder as ss says."""
    rows = ss_rows({proc.pid for proc in snapshot.processes})
    checked = 0
    for proc in snapshot.processes:
        for view in proc.fds:
            row = rows[view.inode]
            assert SS_STATE[row["state"]] == view.raw.state, (proc.name, view.fd)
            assert (proc.pid, view.fd) in row["holders"]
            if view.role == "passive":
                assert (view.pending, view.backlog) == (row["recvq"], row["sendq"])
            else:
                assert view.unread == row["recvq"]
            assert view.raw.peer == row["peer"]
            checked += 1
    return checked


def assert_blocked_agrees_with_proc(snapshot):
    for proc in snapshot.processes:
        task = procfs.task_state(proc.pid)
        asleep_in_call = task.state == "S" and procfs.syscall_name(task.syscall) not in ("read",)
        assert (proc.blocked is not None) == asleep_in_call, proc.name
        if proc.blocked:
            assert task.args[0] == proc.blocked.fd


def test_backlog_scenario_agrees_with_ss_at_every_step(typed):
    typed("spawn server c1 c2 c3", "server: socket AF_UNIX SOCK_STREAM", "server: bind 3 srv.sock",
          "server: listen 3 1")
    expected = [  # after each step: (pending, backlog, blocked processes)
        ("c1: socket AF_UNIX SOCK_STREAM", "c1: connect 3 srv.sock", 1, set()),
        ("c2: socket AF_UNIX SOCK_STREAM", "c2: connect 3 srv.sock", 2, set()),
        ("c3: socket AF_UNIX SOCK_STREAM", "c3: connect 3 srv.sock", 2, {"c3"}),
        ("server: accept 3", "state", 2, set()),
        ("server: accept 3", "state", 1, set()),
    ]
    for first, second, pending, blocked in expected:
        typed(first, second)
        snapshot = typed.snapshot()
        listener = snapshot.find("server", 3)
        assert (listener.pending, listener.backlog) == (pending, 1)
        assert {p.name for p in snapshot.processes if p.blocked} == blocked
        assert assert_agrees_with_ss(snapshot) >= 2
        assert_blocked_agrees_with_proc(snapshot)
    c3 = typed.snapshot().find("c3", 3)
    assert (c3.state, c3.accepted, c3.peer) == ("CONNECTED", False, "srv.sock")


def test_blocked_connector_is_connecting_with_the_kernel_wait_channel(typed):
    typed("spawn s a b", "s: socket AF_UNIX SOCK_STREAM", "s: bind 3 q.sock", "s: listen 3 0",
          "a: socket AF_UNIX SOCK_STREAM", "a: connect 3 q.sock", "b: socket AF_UNIX SOCK_STREAM",
          "b: connect 3 q.sock")
    snapshot = typed.snapshot()
    b = snapshot.process("b")
    assert (b.blocked.call, b.blocked.fd, b.blocked.syscall, b.blocked.wchan) == (
        "connect", 3, "connect", "unix_wait_for_peer")
    assert snapshot.find("b", 3).state == "CONNECTING"
    assert_agrees_with_ss(snapshot)


def test_unread_stream_bytes_and_peer_owners(typed):
    typed("spawn a", "socketpair AF_UNIX SOCK_STREAM", 'write 3 "hello"', 'write 3 " world"')
    snapshot = typed.snapshot()
    four = snapshot.find("a", 4)
    assert (four.unread, four.peer_owner.process, four.peer_owner.fd) == (11, "a", 3)
    assert snapshot.find("a", 3).unread == 0
    assert_agrees_with_ss(snapshot)


def test_agreement_with_ss_ignores_other_programs_undecodable_socket_names(typed):
    """Another program on the machine holding a non-UTF-8 name must not break the cross-check."""
    typed("spawn a", "socketpair AF_UNIX SOCK_STREAM")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as other:
        other.bind(b"\0sockrepl-test-\xff\xfe " + str(os.getpid()).encode())
        assert assert_agrees_with_ss(typed.snapshot()) == 2


def test_datagram_queue_reports_the_first_datagram_size(typed):
    typed("spawn a b", "a: socket AF_UNIX SOCK_DGRAM", "a: bind 3 @mailbox", "b: socket AF_UNIX SOCK_DGRAM",
          'b: sendto 3 "abc" @mailbox', 'b: sendto 3 "defgh" @mailbox')
    snapshot = typed.snapshot()
    box = snapshot.find("a", 3)
    assert (box.type, box.state, box.local, box.unread) == ("DGRAM", "BOUND", "@mailbox", 3)
    assert "letters waiting (first 3 B)" in analogy.words(box, None)[0]
    assert_agrees_with_ss(snapshot)


def test_stale_socket_file_after_close(typed):
    typed("spawn a", "socket AF_UNIX SOCK_STREAM", "bind 3 old.sock", "listen 3 5")
    file = typed.snapshot().files[0]
    assert (file.path, file.kind, file.bound, file.owner.process, file.owner.fd) == ("old.sock", "socket", True,
                                                                                     "a", 3)
    typed("close 3")
    file = typed.snapshot().files[0]
    assert (file.kind, file.bound, file.owner) == ("socket", False, None)
    assert "EADDRINUSE" in typed("socket AF_UNIX SOCK_STREAM", "bind 3 old.sock")


def test_seqpacket_socketpair_peers(typed):
    typed("spawn a", "socketpair AF_UNIX SOCK_SEQPACKET")
    snapshot = typed.snapshot()
    three, four = snapshot.find("a", 3), snapshot.find("a", 4)
    assert (three.type, three.state, three.peer_owner.fd, four.peer_owner.fd) == ("SEQPACKET", "CONNECTED", 4, 3)
    assert ss_rows({snapshot.process("a").pid})[three.inode]["netid"] == "u_seq"
    assert_agrees_with_ss(snapshot)


def test_peer_closed_and_shutdown_states(typed):
    typed("spawn a b", "a: socketpair AF_UNIX SOCK_STREAM", "a: shutdown 3 SHUT_WR")
    snapshot = typed.snapshot()
    assert (snapshot.find("a", 3).shutdown, snapshot.find("a", 4).shutdown) == ("write", "read")
    typed("a: close 3")
    four = typed.snapshot().find("a", 4)
    assert (four.state, analogy.words(four, None)[0]) == ("PEER-CLOSED", "☎ the other side hung up")


def test_state_json_is_one_line_with_the_documented_keys(typed):
    typed("spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock", "listen 3 1")
    out = typed("state --json")
    assert "\n" not in out
    data = json.loads(out)
    fd = data["processes"][0]["fds"][0]
    assert {k: fd[k] for k in ("fd", "type", "role", "state", "local", "peer", "peer_owner", "pending", "backlog",
                               "unread")} == {
        "fd": 3, "type": "STREAM", "role": "passive", "state": "LISTEN", "local": "srv.sock", "peer": None,
        "peer_owner": None, "pending": 0, "backlog": 1, "unread": None}
    assert data["processes"][0]["blocked"] is None and data["processes"][0]["alive"] is True
    assert data["files"][0]["path"] == "srv.sock" and data["files"][0]["bound"] is True


def test_blocked_shows_in_json(typed):
    typed("spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock", "listen 3 1", "accept 3")
    data = json.loads(typed("state --json"))
    assert data["processes"][0]["blocked"]["call"] == "accept"
    assert data["processes"][0]["blocked"]["fd"] == 3


def test_limited_fallback_is_marked(typed, monkeypatch):
    """Without sock_diag (the real /proc/net/unix instead) the panel says so instead of inventing queues."""
    def from_proc(net=kernel.HOST):
        with open(net.proc_net_unix, encoding="utf-8", errors="surrogateescape") as table:  # the session's namespace
            return kernel.SocketTable(kernel.parse_proc_net_unix(table.read()), True)

    monkeypatch.setattr(kernel, "read_unix_sockets", from_proc)
    typed("spawn a", "socket AF_UNIX SOCK_STREAM", "bind 3 x.sock", "listen 3 1")
    out = typed("state")
    assert "(limited: no sock_diag" in out
    assert typed.snapshot().find("a", 3).state == "LISTEN"


@pytest.mark.parametrize("name", ["backlog", "echo", "mail", "uppercase"])
def test_every_step_of_a_lesson_agrees_with_ss_and_proc(name):
    """Replay a lesson command by command: after each one, the panel's numbers are ss's and /proc's."""
    from sockrepl.lessons import load, run_action
    from sockrepl.session import Session

    session = Session()
    checked = 0
    try:
        for step in load(name).steps:
            for action in step.actions:
                run_action(session, action)
                snapshot = session.snapshot()
                checked += assert_agrees_with_ss(snapshot)
                assert_blocked_agrees_with_proc(snapshot)
    finally:
        session.close()
    assert checked > 30  # socket views compared, over the whole lesson
