"""A peer outside the session is named as `ss -p` names it: command and pid from /proc/*/fd, or not at all."""

import json
import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until

from sockrepl import holders
from sockrepl.panel import panel_lines
from sockrepl.render import plain

# A program outside sockrepl: names itself (bytes in hex), connects, says so, then holds its socket until
# stdin ends; with "fork", it hands the socket to a child that keeps it and exits itself.
OUTSIDE = r"""
import os, socket, sys
with open("/proc/self/comm", "wb") as comm:
    comm.write(bytes.fromhex(sys.argv[2]))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
if sys.argv[3:] == ["fork"] and os.fork():
    os._exit(0)
print(os.getpid(), flush=True)
sys.stdin.read()
"""


def outside(path: str, name: bytes, *more: str) -> tuple[subprocess.Popen, int]:
    """The program, connected; and the pid that holds its socket."""
    program = subprocess.Popen([sys.executable, "-c", OUTSIDE, path, name.hex(), *more],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return program, int(program.stdout.readline())


def listening(typed) -> str:
    typed("spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock", "listen 3 5")
    return os.path.join(typed.session.scratch, "srv.sock")


def panel(typed) -> list[str]:
    return plain(panel_lines(typed.snapshot(), 80)).splitlines()


def test_a_hostile_command_name_is_shown_escaped_with_its_pid(typed):
    program, pid = outside(listening(typed), b"x\x1b[2J\xff\n y")
    try:
        typed("accept 3")
        assert panel(typed)[2] == f"    fd 4 STREAM active  CONNECTED srv.sock ↔ x\\e[2J\\xff\\n y (pid {pid})"
    finally:
        program.stdin.close()
        program.wait()


def test_the_holder_is_looked_for_once_and_followed_when_it_hands_the_socket_on(typed, monkeypatch):
    scans = []
    scan = holders._scan
    monkeypatch.setattr(holders, "_scan", lambda wanted: scans.append(set(wanted)) or scan(wanted))
    program, pid = outside(listening(typed), b"nc", "fork")
    try:
        program.wait()  # the parent is gone; its child still holds the socket
        assert pid != program.pid
        typed("accept 3")
        assert panel(typed)[2] == f"    fd 4 STREAM active  CONNECTED srv.sock ↔ nc (pid {pid})  ☎ in a call"
        panel(typed)
        assert len(scans) == 1  # kept while the socket lives, checked with one readlink
    finally:
        program.stdin.close()
    wait_until(lambda: "(closed)" in panel(typed)[2], what="the child to exit")
    assert len(scans) == 1  # a closed peer is not looked for


def test_no_process_is_looked_for_when_the_session_holds_both_ends(typed, monkeypatch):
    monkeypatch.setattr(holders, "_scan", lambda wanted: pytest.fail(f"scanned /proc for {wanted}"))
    typed("spawn a", "socketpair AF_UNIX SOCK_STREAM")
    assert panel(typed)[1:3] == ["    fd 3 STREAM active CONNECTED ↔ a:4  ☎ in a call",
                                 "    fd 4 STREAM active CONNECTED ↔ a:3  ☎ in a call"]


UNPRIVILEGED = """
import json, os, socket, sys
sys.path.insert(0, sys.argv[1])
from sockrepl.holders import Holders
mine = socket.socketpair()
inodes = [os.fstat(s.fileno()).st_ino for s in mine] + [int(sys.argv[2])]
print(json.dumps({str(i): [h.command, h.pid, h.fd] for i, h in Holders().of(inodes, inodes).items()}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a program as another user")
def test_another_users_process_is_not_readable_without_privilege():
    """As `ss -p` run by a user: that user's own processes are found, root's are not (no holder)."""
    try:
        pwd.getpwnam("sockrepl-tester")
    except KeyError:
        pytest.skip("no user sockrepl-tester")
    python = "/usr/bin/python3.11"  # the test's own Python may live where that user cannot read
    if not os.access(python, os.X_OK):
        pytest.skip(f"no {python}")
    root_end, _ = socket.socketpair()
    with root_end:
        done = subprocess.run(["runuser", "-u", "sockrepl-tester", "--", python, "-I", "-c", UNPRIVILEGED,
                               str(Path(holders.__file__).parent.parent), str(os.fstat(root_end.fileno()).st_ino)],
                              capture_output=True, text=True, timeout=30, check=True)
    found = list(json.loads(done.stdout).values())
    assert [(command, fd) for command, _pid, fd in found] == [("python3.11", 3), ("python3.11", 4)]


def test_state_json_names_the_outside_holder_by_its_fields(typed):
    program, pid = outside(listening(typed), b"nc")
    try:
        typed("accept 3")
        fds = json.loads(typed("state --json"))["processes"][0]["fds"]
        assert fds[1]["peer_process"] == {"command": "nc", "pid": pid, "fd": 3}
    finally:
        program.stdin.close()
        program.wait()
