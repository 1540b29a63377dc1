"""Hardening: resource exhaustion, faults, data safety. Exact transcripts, then /proc afterwards.

Every wait has a deadline (`wait_until`, `Live.lines`); nothing sleeps. Tests that act between
two commands (kill a worker from outside, signal sockrepl) use `Live`, a `sockrepl run -` fed
one line at a time. Known bugs are kept as strict xfails with the reason.
"""

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
from conftest import (
    FIRST_LINE,
    gone,
    normalize,
    python_errors,
    run_sockrepl,
    scratch_of,
    sockets_under,
    spawned_pids,
    wait_until,
)

from sockrepl import procfs
from sockrepl.commands import MAX_PROCESSES


def children_of(pid: int) -> set[int]:
    """Live (non-zombie) children of a process, from /proc."""
    found = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found |= {int(p) for p in f.read().split()}
    except FileNotFoundError:
        return set()
    return {p for p in found if not gone(p)}


def workers_of(sockrepl_pid: int) -> set[int]:
    """Worker processes started by that sockrepl (their argv names its pid), wherever they are now."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        ours = any(a.endswith(b"worker.py") for a in argv) and str(sockrepl_pid).encode() in argv
        if ours and not gone(int(entry)):
            found.add(int(entry))
    return found


def only_scratch_line(stderr: bytes) -> bool:
    lines = stderr.decode("utf-8", "replace").splitlines()
    return len(lines) == 1 and lines[0].startswith("sockrepl: scratch directory /tmp/")


def state_json(line: str) -> dict:
    return json.loads(line)


# ---- resource exhaustion -------------------------------------------------------------------------


def test_emfile_is_a_result_and_the_session_goes_on():
    script = ["spawn a"] + ["socket AF_UNIX SOCK_STREAM"] * 30 + [
        "socketpair AF_UNIX SOCK_STREAM", "close 3", "socketpair AF_UNIX SOCK_STREAM", "close 17",
        "socketpair AF_UNIX SOCK_DGRAM", "getsockname 31"]
    result = subprocess.run(["sh", "-c", "ulimit -n 32; exec \"$0\" -m sockrepl run -", sys.executable],
                            input="\n".join(script).encode() + b"\n", capture_output=True, timeout=60)
    emfile = "-1 EMFILE (Too many open files)"
    expected = [FIRST_LINE, "spawned a (pid N); current process: a"]
    expected += [f"[a] socket(AF_UNIX, SOCK_STREAM, 0) = {fd}" for fd in range(3, 32)]  # 0-2 are sockrepl's
    expected += [f"[a] socket(AF_UNIX, SOCK_STREAM, 0) = {emfile}",
                 "    ↳ this process has no free fd left: close some first",
                 f"[a] socketpair(AF_UNIX, SOCK_STREAM, 0, sv) = {emfile}",
                 "    ↳ a pair needs two free fds and this process has fewer: close some",
                 "[a] close(3) = 0",
                 f"[a] socketpair(AF_UNIX, SOCK_STREAM, 0, sv) = {emfile}",
                 "    ↳ a pair needs two free fds and this process has fewer: close some",
                 "[a] close(17) = 0",
                 "[a] socketpair(AF_UNIX, SOCK_DGRAM, 0, [3, 17]) = 0",
                 "[a] getsockname(31, {sa_family=AF_UNIX}, [110 => 2]) = 0"]
    assert normalize(result.stdout.decode()).splitlines() == expected
    assert result.returncode == 0 and only_scratch_line(result.stderr)
    assert not os.path.exists(scratch_of(result.stderr))
    assert all(gone(pid) for pid in spawned_pids(result.stdout))


def test_sockrepl_out_of_fds_refuses_spawn_cleanly(live):
    """sockrepl's own fds (two pipes a worker) run out before MAX_PROCESSES: a clear refusal, nothing half-started."""
    session = live(argv=["sh", "-c", "ulimit -n 32; exec \"$0\" -m sockrepl run -", sys.executable])
    started = []
    for i in range(MAX_PROCESSES):
        line = session.feed(f"spawn w{i}")[0]
        if not line.startswith("spawned"):
            break
        started.append(session.pids[f"w{i}"])
    assert line == f"line {len(started) + 1}: error: could not start a process: EMFILE (Too many open files)"
    assert session.lines(1) == ["hint: close some fds or kill some processes first"]
    assert 5 <= len(started) < MAX_PROCESSES
    assert children_of(session.proc.pid) == {session.pids["p1"], *started}  # no half-started worker left
    # the session goes on: calls work, and a freed slot can be used again
    assert session.feed("w0: socket AF_UNIX SOCK_DGRAM") == ["[w0] socket(AF_UNIX, SOCK_DGRAM, 0) = 3"]
    assert session.feed("kill w1 SIGKILL") == ["[w1] +++ killed by SIGKILL +++"]
    assert session.feed("spawn again")[0].startswith("spawned again (pid ")
    state = json.loads(session.feed("state --json")[0])  # sockrepl's own reading of the kernel still works
    assert [p["name"] for p in state["processes"]] == ["p1"] + [f"w{i}" for i in range(len(started)) if i != 1] + [
        "again"]
    assert state["processes"][1]["fds"][0]["type"] == "DGRAM"
    rc, rest, err = session.finish()
    assert rc == 1 and rest == [] and only_scratch_line(err)
    wait_until(lambda: all(gone(p) for p in started), what="workers gone")
    assert not os.path.exists(session.scratch)


def test_spawn_limit_is_max_processes_with_a_clear_message():
    names = [f"p{i}" for i in range(2, MAX_PROCESSES + 2)]  # p1 is there from the start
    script = "\n".join([f"spawn {' '.join(names)}",                      # one too many: nothing starts
                        f"spawn {' '.join(names[:MAX_PROCESSES - 1])}",  # exactly the limit
                        "spawn extra",
                        "kill p1 SIGKILL",
                        "spawn extra",
                        "ps"]) + "\n"
    result = run_sockrepl(script)
    out = normalize(result.stdout.decode()).splitlines()
    assert out[0] == FIRST_LINE
    assert out[1] == f"line 1: error: a session holds at most {MAX_PROCESSES} processes (1 running)"
    assert out[2] == "hint: kill some first"
    assert out[3].startswith("spawned p2 (pid N), p3 (pid N), ") and out[3].endswith(
        f"p{MAX_PROCESSES} (pid N); current process: p2")
    assert out[4:8] == [f"line 3: error: a session holds at most {MAX_PROCESSES} processes ({MAX_PROCESSES} running)",
                        "hint: kill some first",
                        "[p1] +++ killed by SIGKILL +++",
                        "spawned extra (pid N); current process: extra"]
    table = out[8:]
    assert table[0].split() == ["NAME", "PID", "UID", "STATUS"]
    assert len(table) == 1 + MAX_PROCESSES
    rows = [row.lstrip("* ").split() for row in table[1:]]
    assert [r[0] for r in rows] == [f"p{i}" for i in range(2, MAX_PROCESSES + 1)] + ["extra"]
    assert all(r[2:] == [str(os.getuid()), "idle"] for r in rows)
    assert result.returncode == 1  # refused, not malformed
    pids = spawned_pids(result.stdout)
    assert len(pids) == MAX_PROCESSES + 1
    assert all(gone(pid) for pid in pids)


def test_megabyte_write_blocks_and_the_peer_reads_release_it():
    script = """\
spawn a b
a: socket AF_UNIX SOCK_STREAM
a: bind 3 big.sock
a: listen 3 1
b: socket AF_UNIX SOCK_STREAM
b: connect 3 big.sock
a: accept 3
b: write 3 "x"*1000000
ps
b: getsockname 3
""" + "a: recv 4 1048576 MSG_DONTWAIT\n" * 8
    result = run_sockrepl(script)
    assert result.returncode == 1, result.stdout  # line 10 is refused: b is blocked
    out = normalize(result.stdout.decode()).splitlines()
    assert out[8] == '[b] write(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 1000000 <unfinished ...>'
    assert out[9].split() == ["NAME", "PID", "UID", "STATUS"]
    uid = os.getuid()
    assert re.fullmatch(rf"  p1 +\d+ +{uid} +idle", out[10])
    assert re.fullmatch(rf"\* a +\d+ +{uid} +idle", out[11])
    assert re.fullmatch(rf"  b +\d+ +{uid} +blocked in write\(3\)", out[12])
    assert out[13:15] == ["line 10: error: b is blocked in write(3): it cannot run another call until that one "
                          "returns", "hint: wait b waits for it, interrupt b ends it with EINTR"]
    received, resumed_after, eagain = 0, None, 0
    recv = re.compile(r'^\[a\] recv\(4, "x{32}"\.\.\., 1048576, MSG_DONTWAIT\) = (\d+)$')
    for line in out[15:]:
        if line == "[b] <... write resumed>) = 1000000":
            assert resumed_after is None, "resumed twice"
            resumed_after = received
        elif line == "[a] recv(4, buf, 1048576, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)":
            eagain += 1
            assert received == 1_000_000, "EAGAIN before all the data arrived"
        elif line == "    ↳ non-blocking and nothing has arrived yet: try again later (or O_NONBLOCK off)":
            assert eagain, line
        else:
            match = recv.match(line)
            assert match, line
            count = int(match[1])
            assert 0 < count <= 1048576
            received += count
    assert received == 1_000_000
    # the write returned only once reads made room for its last bytes, and before they were all read
    assert resumed_after is not None and 0 < resumed_after < 1_000_000
    assert eagain >= 1


def test_datagram_over_the_maximum_is_emsgsize():
    with open("/proc/sys/net/core/wmem_default") as f:
        sndbuf = int(f.read())
    biggest = sndbuf - 32  # unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE
    name = f"sockrepl-test-{os.getpid()}"
    script = f"""\
spawn a
socket AF_UNIX SOCK_DGRAM
getsockopt 3 SO_SNDBUF
sendto 3 "x"*{biggest + 1} @{name}
bind 3 @{name}
sendto 3 "x"*{biggest + 1} @{name}
sendto(3, "x"*{biggest + 1}, {biggest}, 0, "@{name}")
recvfrom 3 1048576 MSG_DONTWAIT
"""
    result = run_sockrepl(script)
    assert result.returncode == 0
    xs = '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...'
    addr = f'{{sa_family=AF_UNIX, sun_path=@"{name}"}}, {3 + len(name)}'
    emsgsize = ["-1 EMSGSIZE (Message too long)",
                "    ↳ datagram too big: the limit is SO_SNDBUF - 32 bytes (212960 by default)"]
    assert normalize(result.stdout.decode()).splitlines() == [
        FIRST_LINE,
        "spawned a (pid N); current process: a",
        "[a] socket(AF_UNIX, SOCK_DGRAM, 0) = 3",
        f"[a] getsockopt(3, SOL_SOCKET, SO_SNDBUF, [{sndbuf}], [4]) = 0",
        f"[a] sendto(3, {xs}, {biggest + 1}, 0, {addr}) = {emsgsize[0]}", emsgsize[1],
        f"[a] bind(3, {addr}) = 0",
        f"[a] sendto(3, {xs}, {biggest + 1}, 0, {addr}) = {emsgsize[0]}", emsgsize[1],
        f"[a] sendto(3, {xs}, {biggest}, 0, {addr}) = {biggest}",
        f'[a] recvfrom(3, {xs}, 1048576, MSG_DONTWAIT, {{sa_family=AF_UNIX, sun_path=@"{name}"}}, '
        f"[110 => {3 + len(name)}]) = {biggest}",
    ]


@pytest.mark.parametrize("line, what", [
    ("bind 3 {p}", "bind: sun_path holds 108 bytes; a path of 109 bytes does not fit"),
    ("connect 3 {p}", "connect: sun_path holds 108 bytes; a path of 109 bytes does not fit"),
    ('sendto 3 "hi" {p}', "sendto: sun_path holds 108 bytes; a path of 109 bytes does not fit"),
    ('bind(3, "{p}")', "bind: sun_path holds 108 bytes; a path of 109 bytes does not fit"),
    ("bind 3 @{a}", "bind: sun_path holds 108 bytes; an abstract name of 109 bytes does not fit"),
])
def test_sun_path_over_108_bytes_is_a_usage_error(line, what):
    long_path, long_abstract = "p" * 109, "a" * 108
    script = f"spawn a\nsocket AF_UNIX SOCK_STREAM\n{line.format(p=long_path, a=long_abstract)}\nclose 3\n"
    result = run_sockrepl(script)
    out = normalize(result.stdout.decode()).splitlines()
    usage = {"bind": "bind FD PATH", "connect": "connect FD PATH", "sendto": "sendto FD DATA PATH [FLAGS]"}
    call = what.split(":")[0]
    expected_usage = "bind(fd, addr, [addrlen])" if line.startswith("bind(") else usage[call]
    assert out == [FIRST_LINE,
                   "spawned a (pid N); current process: a",
                   "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3",
                   f"line 3: error: {what} (a C program would cut it with strncpy, or fail)",
                   f"usage: {expected_usage}",
                   "hint: use a shorter relative path: relative paths live in the scratch directory",
                   "[a] close(3) = 0"]
    assert result.returncode == 2 and only_scratch_line(result.stderr)


def test_sun_path_of_exactly_108_bytes_is_a_real_call():
    name = f"sockrepl-{os.getpid()}-".ljust(107, "z")
    result = run_sockrepl(f"spawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 @{name}\ngetsockname 3\n"
                          f"socket AF_UNIX SOCK_STREAM\nbind 4 {'q' * 108}\n")
    out = normalize(result.stdout.decode()).splitlines()
    assert out[3] == f'[a] bind(3, {{sa_family=AF_UNIX, sun_path=@"{name}"}}, 110) = 0'
    assert out[4] == f'[a] getsockname(3, {{sa_family=AF_UNIX, sun_path=@"{name}"}}, [110 => 110]) = 0'
    assert out[6].startswith(f'[a] bind(4, {{sa_family=AF_UNIX, sun_path="{"q" * 108}"}}, 110) = ')
    assert result.returncode == 0 and not python_errors(result.stdout, result.stderr)


# ---- faults: workers killed from outside -----------------------------------------------------------


def test_worker_killed_while_idle_is_reported_and_its_peers_see_eof_or_reset(live):
    s = live()
    s.feed("spawn srv c1 c2")
    setup = ["srv: socket AF_UNIX SOCK_STREAM", "srv: bind 3 srv.sock", "srv: listen 3 5",
             "c1: socket AF_UNIX SOCK_STREAM", "c1: connect 3 srv.sock", "srv: accept 3",
             "c2: socket AF_UNIX SOCK_STREAM", "c2: connect 3 srv.sock", "srv: accept 3",
             'srv: write 4 "bye"', 'c2: write 3 "never read"']
    for line in setup:
        assert " = " in s.feed(line)[0]
    srv = s.pids["srv"]
    os.kill(srv, signal.SIGKILL)
    wait_until(lambda: gone(srv), what="srv to die")
    # the death is reported before the next command's own output
    assert s.feed("c1: recv 3", 2) == ["[srv] +++ killed by SIGKILL +++", '[c1] recv(3, "bye", 1024, 0) = 3']
    assert s.feed("c1: recv 3", 2) == ['[c1] recv(3, "", 1024, 0) = 0', "    ↳ 0 bytes = end of file: the other "
                                                                         "side hung up (or shut down its writing side)"]
    # c2's data was still unread in srv's queue when srv died: the kernel says ECONNRESET, once
    assert s.feed("c2: recv 3", 2) == ["[c2] recv(3, buf, 1024, 0) = -1 ECONNRESET (Connection reset by peer)",
                                       "    ↳ line cut: the peer closed with your data unread "
                                       "(or was never accepted); next read: 0"]
    assert s.feed("c2: recv 3", 2) == ['[c2] recv(3, "", 1024, 0) = 0', "    ↳ 0 bytes = end of file: the other "
                                                                         "side hung up (or shut down its writing side)"]
    state = state_json(s.feed("state --json")[0])
    assert [p["name"] for p in state["processes"]] == ["p1", "c1", "c2"]
    assert all(fd["peer_owner"] is None for p in state["processes"] for fd in p["fds"])
    owners = {f["path"]: (f["owner"], f["bound"]) for f in state["files"]}
    assert owners == {"srv.sock": (None, False)}  # the socket file stays, stale, as the kernel leaves it
    assert s.feed("srv: socket AF_UNIX SOCK_STREAM", 2) == ["line 18: error: srv is gone (killed by SIGKILL)",
                                                            "hint: spawn srv starts a new one"]
    assert s.feed("c1: socket AF_UNIX SOCK_STREAM") == ["[c1] socket(AF_UNIX, SOCK_STREAM, 0) = 4"]
    assert s.feed("c1: connect 4 srv.sock", 2) == [
        '[c1] connect(4, {sa_family=AF_UNIX, sun_path="srv.sock"}, 10) = -1 ECONNREFUSED (Connection refused)',
        ECONNREFUSED_NOTE]
    rc, rest, err = s.finish()
    assert rc == 1 and rest == [] and only_scratch_line(err)
    assert not os.path.exists(s.scratch)


def test_worker_killed_while_blocked_in_accept(live):
    s = live()
    s.feed("spawn srv cli")
    for line in ["srv: socket AF_UNIX SOCK_STREAM", "srv: bind 3 srv.sock", "srv: listen 3 1",
                 "cli: socket AF_UNIX SOCK_STREAM"]:
        s.feed(line)
    assert s.feed("srv: accept 3") == ["[srv] accept(3, NULL, NULL <unfinished ...>"]
    table = s.feed("ps", 4)
    assert table[0].split() == ["NAME", "PID", "UID", "STATUS"]
    assert table[1].split() == ["p1", str(s.pids["p1"]), str(os.getuid()), "idle"]
    assert table[2].split() == ["*", "srv", str(s.pids["srv"]), str(os.getuid()), "blocked", "in", "accept(3)"]
    assert table[3].split() == ["cli", str(s.pids["cli"]), str(os.getuid()), "idle"]
    task = procfs.task_state(s.pids["srv"])
    assert task.state == "S" and procfs.syscall_name(task.syscall) in ("accept", "accept4")
    os.kill(s.pids["srv"], signal.SIGKILL)
    wait_until(lambda: gone(s.pids["srv"]), what="srv to die")
    assert s.feed("cli: connect 3 srv.sock", 4) == [
        "[srv] <... accept resumed> <unfinished ...>) = ?",
        "[srv] +++ killed by SIGKILL +++",
        '[cli] connect(3, {sa_family=AF_UNIX, sun_path="srv.sock"}, 10) = -1 ECONNREFUSED (Connection refused)',
        ECONNREFUSED_NOTE]
    state = state_json(s.feed("state --json")[0])
    assert [p["name"] for p in state["processes"]] == ["p1", "cli"]
    assert [p["blocked"] for p in state["processes"]] == [None, None]
    assert [row.split() for row in s.feed("ps", 3)] == [["NAME", "PID", "UID", "STATUS"],
                                                       ["p1", str(s.pids["p1"]), str(os.getuid()), "idle"],
                                                       ["cli", str(s.pids["cli"]), str(os.getuid()), "idle"]]
    rc, rest, err = s.finish()
    assert rc == 0 and rest == [] and only_scratch_line(err)
    assert not os.path.exists(s.scratch) and gone(s.pids["cli"])


# ---- faults: sockrepl itself signalled, or its reader gone -------------------------------------------


def _busy_session(live, tmp_path):
    """A session with a blocked accept, a relative socket file and one outside the scratch directory."""
    s = live()
    s.feed("spawn srv cli")
    outside = tmp_path / "outside.sock"
    for line in ["srv: socket AF_UNIX SOCK_STREAM", "srv: bind 3 srv.sock", "srv: listen 3 1",
                 "cli: socket AF_UNIX SOCK_DGRAM", f"cli: bind 3 {outside}"]:
        assert re.search(r"\) = [03]$", s.feed(line)[0]), line
    assert s.feed("srv: accept 3") == ["[srv] accept(3, NULL, NULL <unfinished ...>"]
    assert os.path.exists(os.path.join(s.scratch, "srv.sock")) and outside.exists()
    return s, outside


ECONNREFUSED_NOTE = "    ↳ a file is there but nobody is listening: the ringer is off (or the server is gone)"
LEAVING = ["[srv] <... accept resumed> <unfinished ...>) = ?", "[srv] +++ killed by SIGKILL +++ (sockrepl is leaving)"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sockrepl_signalled_cleans_up_everything(live, tmp_path, signum):
    s, outside = _busy_session(live, tmp_path)
    workers = set(s.pids.values())
    assert workers_of(s.proc.pid) == workers
    s.proc.send_signal(signum)
    rc, rest, err = s.wait_exit()
    assert rc == 128 + signum
    assert rest == LEAVING
    assert only_scratch_line(err)
    wait_until(lambda: all(gone(p) for p in workers), what="workers gone")
    assert not os.path.exists(s.scratch) and not outside.exists()


def test_sockrepl_signalled_during_wait_leaves_at_once(live, tmp_path):
    s, outside = _busy_session(live, tmp_path)
    s.send("wait srv 600")
    pid = s.proc.pid

    def in_wait():
        task = procfs.task_state(pid)
        return task is not None and procfs.syscall_name(task.syscall or -1) in ("select", "pselect6", "poll", "ppoll")

    wait_until(in_wait, what="sockrepl to be inside `wait`")
    started = time.monotonic()
    s.proc.send_signal(signal.SIGHUP)
    rc, rest, err = s.wait_exit()
    assert time.monotonic() - started < 5
    assert rc == 128 + signal.SIGHUP and rest == LEAVING and only_scratch_line(err)
    assert not os.path.exists(s.scratch) and not outside.exists()


def test_sockrepl_signalled_during_spawn_leaves_no_worker(live):
    s = live()
    s.send("spawn " + " ".join(f"w{i}" for i in range(MAX_PROCESSES - 1)))  # with p1: the limit
    wait_until(lambda: len(children_of(s.proc.pid)) >= 5, what="workers starting")  # p1 and 4 of them
    s.proc.send_signal(signal.SIGTERM)
    rc, _rest, err = s.wait_exit()
    assert rc == 128 + signal.SIGTERM and only_scratch_line(err)
    wait_until(lambda: not workers_of(s.proc.pid), what="every worker gone")
    assert not os.path.exists(s.scratch)


def test_two_signals_in_a_row_still_clean_up(live, tmp_path):
    s, outside = _busy_session(live, tmp_path)
    for name in ("a", "b", "c", "d", "e", "f"):  # more processes: a longer cleanup
        s.feed(f"spawn {name}")
    s.proc.send_signal(signal.SIGHUP)  # as a closing terminal does: SIGHUP, then SIGTERM
    s.proc.send_signal(signal.SIGTERM)
    rc, _rest, err = s.wait_exit()
    try:
        assert rc in (128 + signal.SIGHUP, 128 + signal.SIGTERM)
        assert only_scratch_line(err), err
        assert not os.path.exists(s.scratch) and not outside.exists()
    finally:
        shutil.rmtree(s.scratch, ignore_errors=True)  # what the bug leaves behind (this test's own session)


def test_broken_pipe_on_stdout_exits_quietly(tmp_path):
    script = tmp_path / "lesson.txt"
    script.write_text("spawn srv cli\nsrv: socket AF_UNIX SOCK_STREAM\nsrv: bind 3 srv.sock\nsrv: listen 3 1\n"
                      + "help\n" * 60 + "srv: accept 3\n" + "help\n" * 60)
    err = tmp_path / "err.txt"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", f'"$0" -m sockrepl run {script} 2>{err} | head -1',
                             sys.executable], capture_output=True, timeout=60)
    assert result.stdout.startswith(b"spawned p1 (pid ")
    assert result.returncode == 141  # sockrepl's own status: 128 + SIGPIPE, said quietly
    errors = err.read_bytes()
    assert only_scratch_line(errors), errors
    assert not os.path.exists(scratch_of(errors))
    wait_until(lambda: all(gone(p) for p in spawned_pids(result.stdout)), what="workers gone")


# ---- faults that sockrepl reports wrongly (known bugs) ---------------------------------------------


def test_sigtstp_report_matches_the_kernel(live):
    s = live()
    s.feed("spawn a")
    started = time.monotonic()  # the kill alone: the run's start (p1, a) is not what is timed
    s.send("kill a SIGTSTP")
    report = s.lines(1)[0]
    elapsed = time.monotonic() - started
    s.send("ps")
    _rc, rest, _err = s.finish()
    status = rest[-1].split()[-1]
    assert (report == "[a] --- stopped by SIGTSTP ---") == (status == "stopped"), [report, *rest]
    assert elapsed < 1.5, f"kill a SIGTSTP took {elapsed:.1f} s"


def test_death_by_any_fatal_signal_is_reported_before_the_next_command():
    # each try is a race that the buggy code loses most of the time; 20 tries make losing certain
    names = [f"w{i}" for i in range(20)]
    script = [f"spawn {' '.join(names)}"] + [line for n in names for line in (f"kill {n} 40", "ps")]
    result = run_sockrepl("\n".join(script) + "\n")
    out = result.stdout.decode().splitlines()
    tables = [k for k, line in enumerate(out) if line.split()[:2] == ["NAME", "PID"]]
    assert len(tables) == len(names)
    for name, table in zip(names, tables, strict=True):
        report = f"[{name}] +++ killed by signal 40 +++"
        assert report in out, f"{name}'s death never reported"
        assert out.index(report) < table, f"{name}'s death reported after the next command"


# ---- data safety ------------------------------------------------------------------------------------


def test_scratch_directory_is_private_and_unique(live):
    first, second = live(), live()
    assert first.scratch != second.scratch
    for s in (first, second):
        st = os.lstat(s.scratch)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid()
        assert os.path.basename(s.scratch).startswith("sockrepl-")
        s.feed("spawn a")
        s.feed("socket AF_UNIX SOCK_STREAM")
        assert s.feed("bind 3 same.sock") == ['[a] bind(3, {sa_family=AF_UNIX, sun_path="same.sock"}, 11) = 0']
    # same relative name, two sessions, two files: nothing shared
    assert os.lstat(os.path.join(first.scratch, "same.sock")).st_ino != \
        os.lstat(os.path.join(second.scratch, "same.sock")).st_ino
    for s in (first, second):
        assert s.finish()[0] == 0
        assert not os.path.exists(s.scratch)


def test_cleanup_keeps_files_the_session_did_not_create(tmp_path):
    precious = tmp_path / "precious.sock"
    precious.write_text("not a socket")
    foreign_path = tmp_path / "foreign.sock"
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(foreign_path))
    foreign.listen(1)
    foreign_ino = os.lstat(foreign_path).st_ino
    try:
        result = run_sockrepl(f"spawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 {precious}\nbind 3 {foreign_path}\n"
                              f"socket AF_UNIX SOCK_STREAM\nconnect 4 {foreign_path}\nunlink nothing.sock\n")
        out = result.stdout.decode().splitlines()
        eaddrinuse = "= -1 EADDRINUSE (Address already in use)"
        assert out[3] == f'[a] bind(3, {{sa_family=AF_UNIX, sun_path="{precious}"}}, ' \
                         f'{2 + len(str(precious))}) {eaddrinuse}'
        assert out[5] == f'[a] bind(3, {{sa_family=AF_UNIX, sun_path="{foreign_path}"}}, ' \
                         f'{2 + len(str(foreign_path))}) {eaddrinuse}'
        assert out[8] == f'[a] connect(4, {{sa_family=AF_UNIX, sun_path="{foreign_path}"}}, ' \
                         f'{2 + len(str(foreign_path))}) = 0'
        assert precious.read_text() == "not a socket"
        assert os.lstat(foreign_path).st_ino == foreign_ino and stat.S_ISSOCK(os.lstat(foreign_path).st_mode)
    finally:
        foreign.close()


def test_cleanup_keeps_a_socket_another_program_bound_in_tmp():
    """Another program's socket file straight in /tmp: sockrepl connects to it, and leaves it alone."""
    path = f"/tmp/sockrepl-test-foreign-{os.getpid()}.sock"
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    foreign.bind(path)
    try:
        result = run_sockrepl(f'spawn a\nsocket AF_UNIX SOCK_DGRAM\nsendto 3 "hello" {path}\nbind 3 {path}\n'
                              f"ls\n")
        out = result.stdout.decode().splitlines()
        assert out[3] == f'[a] sendto(3, "hello", 5, 0, {{sa_family=AF_UNIX, sun_path="{path}"}}, ' \
                         f"{2 + len(path)}) = 5"
        assert out[4].endswith("= -1 EADDRINUSE (Address already in use)")
        assert foreign.recv(10) == b"hello"
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        foreign.close()
        os.unlink(path)


def bound_session(live, path):
    """A session whose process `a` has bound fd 3 at `path`."""
    s = live()
    s.feed("spawn a")
    s.feed("socket AF_UNIX SOCK_STREAM")
    assert s.feed(f"bind 3 {path}")[0].endswith(" = 0")
    return s


def test_cleanup_keeps_a_socket_rebound_at_a_path_the_session_unlinked(live, tmp_path):
    """The session bound P, then P was unlinked and another program bound its own socket there."""
    path = tmp_path / "p.sock"
    s = bound_session(live, path)
    assert s.feed(f"unlink {path}")[0] == f'[a] unlink("{path}") = 0'
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(path))  # the session's socket is still open: the old inode cannot be reused
    try:
        rc, _, err = s.finish()
        assert rc == 0 and only_scratch_line(err)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        foreign.close()


def test_cleanup_keeps_another_programs_socket_even_with_a_reused_inode(live, tmp_path):
    path = tmp_path / "srv.sock"
    s = bound_session(live, path)
    session_ino = os.lstat(path).st_ino
    assert s.feed("close 3") == ["[a] close(3) = 0"]
    # another program starts the usual C way: unlink the stale file, bind its own socket
    os.unlink(path)
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(path))
    try:
        if os.lstat(path).st_ino != session_ino:
            pytest.skip("this filesystem gave the new socket file a new inode number")
        rc, _, _err = s.finish()
        assert rc == 0
        assert os.path.exists(path), "sockrepl removed another program's live socket file"
    finally:
        foreign.close()


def test_state_json_is_valid_utf8_with_an_undecodable_file_name():
    script = 'spawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 "\\xff\\xfe.sock"\nstate --json\nls\n'
    result = run_sockrepl(script)
    line = result.stdout.splitlines()[4]
    state = json.loads(line.decode("utf-8"))  # strict: JSON is UTF-8
    assert [f["path"] for f in state["files"]] == [state["processes"][1]["fds"][0]["local"]]
    strict = run_sockrepl(script, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert strict.returncode == 0 and not python_errors(strict.stdout, strict.stderr), strict.stderr


def test_signal_command_acts_on_the_named_process():
    result = run_sockrepl('spawn a b\nsignal b SIGPIPE ignore\nb: socketpair AF_UNIX SOCK_STREAM\nb: close 4\n'
                          'b: write 3 "x"\n')
    out = normalize(result.stdout.decode()).splitlines()
    assert out[2] == "[b] signal(SIGPIPE, SIG_IGN) = SIG_DFL"
    assert out[5] == '[b] write(3, "x", 1) = -1 EPIPE (Broken pipe)'


# ---- history ------------------------------------------------------------------------------------------


def test_history_store_is_atomic_and_keeps_the_newest(tmp_path):
    from sockrepl.history import KEEP, AtomicFileHistory

    path = tmp_path / "state" / "sockrepl" / "history"
    history = AtomicFileHistory(str(path))
    entries = [f"socket AF_UNIX SOCK_STREAM # {i}" for i in range(KEEP + 25)]
    for i, entry in enumerate(entries):
        history.store_string(entry)
        if i % 97 == 0 or i == len(entries) - 1:
            assert os.listdir(path.parent) == ["history"]  # no temporary file left beside it
    history.store_string("")          # blank: not stored
    history.store_string("a\nb")      # a newline would split an entry in two: not stored
    assert path.read_text().splitlines() == entries[-KEEP:]
    assert os.listdir(path.parent) == ["history"]
    # a new session reads it back, newest first
    assert list(AtomicFileHistory(str(path)).load_history_strings()) == entries[-KEEP:][::-1]


def test_history_replaces_the_file_never_writes_in_place(tmp_path):
    from sockrepl.history import AtomicFileHistory

    path = tmp_path / "history"
    history = AtomicFileHistory(str(path))
    history.store_string("first")
    with open(path) as reader:  # a reader holding the old file sees the old, whole content
        history.store_string("second")
        assert reader.read() == "first\n"
    assert path.read_text() == "first\nsecond\n"


def test_history_failed_write_leaves_no_temporary_file(tmp_path):
    # a real failed write: RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ ignored), in a child process
    code = f"""
import os, resource, signal, sys
sys.path.insert(0, {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))!r})
from sockrepl.history import AtomicFileHistory
history = AtomicFileHistory({str(tmp_path / "history")!r})
history.store_string("old entry")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
history.store_string("x" * 10000)
history.store_string("y" * 10000)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert (tmp_path / "history").read_text() == "old entry\n"  # the old file is whole
    assert sorted(os.listdir(tmp_path)) == ["history"]


# ---- numbers, encodings and standard streams (issue 10, section 4) ------------------------------------

HUGE = "9" * 5000


def test_every_number_is_bounded_where_it_is_read():
    """Past Python's 4300-digit int() limit, or a digit int() cannot read: a usage error, and the session goes on."""
    lines = [f'send 3 "x"*{HUGE}', f"kill p1 {HUGE}", "kill p1 ²", "kill p1 99", f"listen 3 {HUGE}",
             f"listen 3 0x{HUGE}", f"recv 3 {HUGE}", f"socket AF_UNIX {HUGE}", f"setsockopt 3 SO_SNDBUF {HUGE}",
             f"wait p1 {HUGE}", f"goto {HUGE}", "socket AF_UNIX SOCK_STREAM"]
    result = run_sockrepl("# p1 is there from the start\n" + "\n".join(lines) + "\n")
    out = result.stdout.decode()
    assert result.returncode == 2 and not python_errors(result.stdout, result.stderr)
    errors = [line for line in out.splitlines() if line.startswith("line ")]
    cut = "'" + "9" * 39 + "…'"
    assert errors == [
        "line 2: error: a repeat count of 5000 digits is over sockrepl's 4194304-byte limit",
        f"line 3: error: kill: signal number {cut} is out of range",
        "line 4: error: kill: unknown signal '²'",
        "line 5: error: kill: signal number '99' is out of range",
        f"line 6: error: listen: backlog {cut} (5000 characters) is out of range (-2147483648..2147483647)",
        f"line 7: error: listen: backlog '0x{'9' * 37}…' (5002 characters) is out of range (-2147483648..2147483647)",
        f"line 8: error: recv: the buffer size {cut} (5000 characters) is out of range (0..1048576)",
        f"line 9: error: socket: socket type {cut} (5000 characters) is out of range (-2147483648..2147483647)",
        f"line 10: error: setsockopt: option value {cut} (5000 characters) is out of range (0..2147483647)",
        "line 11: error: wait: seconds must be between 0 and 600",
    ]  # line 12, goto: any step parses; outside a lesson it says where lessons run, as for goto 99
    assert out.splitlines()[-1] == "[p1] socket(AF_UNIX, SOCK_STREAM, 0) = 3"
    assert len(out) < 4000  # no 5000-digit echo


NOT_UTF8_LINES = ("# p1 is there from the start\nsend 3 \"\\\udcff\"\nspawn --\udcff x\n"  # \udcff: a raw 0xff byte
                  "socket AF_UNIX SOCK_STREAM\nbind 3 \"\\xff\"\nstate\nls\nss\n")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "utf-8:strict"},
                                 {"LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8"},
                                 {"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}],
                         ids=["utf8-strict", "lang-utf8", "ascii", "lc-all-c"])
def test_a_strict_or_ascii_stdout_shows_undecodable_bytes_escaped(env):
    result = run_sockrepl(NOT_UTF8_LINES, env={**os.environ, **env})
    assert result.returncode == 2 and not python_errors(result.stdout, result.stderr), result.stderr
    out = result.stdout.decode("ascii" if "ascii" in env.values() or "C" in env.values() else "utf-8")
    assert "line 2: error: unknown escape \\\\xff in a string" in out
    assert "line 3: error: spawn: unknown option --\\xff" in out
    assert '[p1] bind(3, {sa_family=AF_UNIX, sun_path="\\377"}, 3) = 0' in out  # as strace writes it
    assert "socket files:  \\xff (bound: p1 fd 3)" in out and out.count("\\xff") >= 6  # state, ls, ss


def _sockrepl_with(redirect: str, *args, tmp_path, script=b"spawn a\na: socket AF_UNIX SOCK_STREAM\n"):
    """sockrepl with a shell redirection of its standard streams; its scratch directory goes under tmp_path."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    return subprocess.run(["sh", "-c", f'exec "$0" -m sockrepl "$@" {redirect}', sys.executable, *args],
                          input=script, capture_output="2>" not in redirect, timeout=60, env=env)


FULL = b"sockrepl: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("redirect, args, message", [
    (">/dev/full", ("run", "-"), FULL),
    (">/dev/full", ("lesson", "--check", "phone"), FULL),
    (">/dev/full", ("lesson",), FULL),
    (">&-", ("run", "-"), b"sockrepl: standard output is closed: there is nowhere to print to\n"),
    ("<&-", ("run", "-"), b"sockrepl: standard input is closed: there is no script to read "
                          b"(sockrepl run FILE reads a file)\n"),
])
def test_closed_or_full_standard_streams_get_one_line_and_status_74(tmp_path, redirect, args, message):
    if redirect == ">&-":
        result = subprocess.run(["sh", "-c", f'exec "$0" -m sockrepl "$@" {redirect}', sys.executable, *args],
                                input=b"spawn a\n", stderr=subprocess.PIPE, timeout=60,
                                env={**os.environ, "TMPDIR": str(tmp_path)})
    else:
        result = _sockrepl_with(redirect, *args, tmp_path=tmp_path)
    assert result.returncode == 74
    lines = result.stderr.splitlines(keepends=True)
    assert lines[-1] == message and len(lines) <= 2, result.stderr  # at most the scratch line before it
    assert os.listdir(tmp_path) == []  # cleanup ran: no scratch directory left


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2>&-"])
def test_an_unwritable_stderr_at_start_neither_stops_nor_leaks(tmp_path, redirect):
    result = _sockrepl_with(redirect + " >" + str(tmp_path / "out"), "run", "-", tmp_path=tmp_path)
    assert result.returncode == 0
    out = (tmp_path / "out").read_bytes().decode()
    assert normalize(out) == FIRST_LINE + "\nspawned a (pid N); current process: a\n" \
                             "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3\n"
    assert os.listdir(tmp_path) == ["out"]


def test_stdout_and_stderr_into_a_closed_pipe_leave_nothing(tmp_path):
    result = subprocess.run(["bash", "-o", "pipefail", "-c", 'exec 3>&1; "$0" -m sockrepl run - 2>&1 | true',
                             sys.executable], input=b"spawn a\n" + b"help\n" * 50, timeout=60,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 141
    assert os.listdir(tmp_path) == []


# ---- cleanup on every way out (issue 10, section 5) -------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_lesson_check_stopped_by_a_signal_cleans_up(tmp_path, signum):
    """A CI timeout: SIGTERM/SIGHUP while a lesson runs leaves no worker, socket file or scratch directory."""
    proc = subprocess.Popen([sys.executable, "-m", "sockrepl", "lesson", "--check"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        wait_until(lambda: workers_of(proc.pid) and sockets_under(tmp_path), 20, "a lesson with a socket file")
        workers = workers_of(proc.pid)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert out.decode().splitlines()[-1] == (f"STOP lesson --check: {signal.Signals(signum).name}; "
                                             "processes and files cleaned up")
    assert err == b""
    wait_until(lambda: all(gone(p) for p in workers), what="workers gone")
    assert os.listdir(tmp_path) == []


def _starting_repl(tmp_path):
    import pexpect

    env = {**os.environ, "TMPDIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm"}
    os.mkdir(tmp_path / "state")
    return pexpect.spawn(sys.executable, ["-m", "sockrepl"], env=env, dimensions=(24, 80))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_before_the_repl_is_up_leaves_nothing(tmp_path, signum):
    """The scratch directory exists ~0.4 s before the prompt (prompt_toolkit is imported meanwhile)."""
    child = _starting_repl(tmp_path)
    try:
        wait_until(lambda: any(n.startswith("sockrepl-") for n in os.listdir(tmp_path)), 10, "the scratch directory")
        child.kill(signum)
        wait_until(lambda: not child.isalive(), 10, "sockrepl to leave")
    finally:
        child.terminate(force=True)
    assert (child.signalstatus, child.exitstatus) == (None, 128 + signum)  # left through its cleanup
    assert os.listdir(tmp_path) == ["state"]
    wait_until(lambda: not workers_of(child.pid), what="p1 gone")


def _one_process_allowed():
    """argv prefix: a real uid of its own (not root, which RLIMIT_NPROC spares) and `ulimit -u 1`.

    The effective uid stays 0 so that the interpreter (under /root) can still be run.
    """
    if os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("prlimit"):
        pytest.skip("needs root, setpriv and prlimit to run sockrepl under a process limit")
    uid = 60000 + os.getpid() % 5000
    return ["setpriv", f"--ruid={uid}", "--bounding-set=-sys_resource,-sys_admin",
            "--inh-caps=-sys_resource,-sys_admin", "prlimit", "--nproc=1", sys.executable, "-m", "sockrepl"]


def test_no_process_allowed_run_says_so_and_goes_on(tmp_path):
    result = subprocess.run([*_one_process_allowed(), "run", "-"], input=b"spawn a\nls\n", capture_output=True,
                            timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})
    refused = ["error: could not start a process: EAGAIN (Resource temporarily unavailable)",
               "hint: the system refuses this user more processes (ulimit -u): kill some, or raise the limit"]
    assert result.stdout.decode().splitlines() == [
        *refused,  # p1, at the start (no line of the script: the REPL shows it so too)
        "line 1: " + refused[0], refused[1],
        "no socket files (bind a socket to a path to make one)"]
    assert result.returncode == 1 and os.listdir(tmp_path) == []  # refused, not malformed


def test_no_thread_allowed_the_repl_says_so_and_leaves_nothing(tmp_path):
    import pexpect

    argv = _one_process_allowed()
    child = pexpect.spawn(argv[0], argv[1:], env={**os.environ, "TMPDIR": str(tmp_path)}, dimensions=(24, 80))
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    said = child.before.decode().strip()
    assert said == ("sockrepl: cannot start the session's thread (can't start new thread): the system refuses new "
                    "threads or processes to this user (see ulimit -u); nothing was left behind")
    assert child.exitstatus == 71 and os.listdir(tmp_path) == []


def test_an_unprivileged_worker_dies_with_sockrepl_even_by_sigkill(live):
    """The kernel clears PR_SET_PDEATHSIG when a process changes uid: the worker sets it again after."""
    if os.geteuid() != 0:
        pytest.skip("spawn --unprivileged switches user only when sockrepl runs as root")
    s = live()
    assert s.feed("spawn --unprivileged u", 2)[1].startswith("spawned u (pid ")
    for line in ["u: socket AF_UNIX SOCK_STREAM", f"u: bind 3 @sockrepl-test-{os.getpid()}", "u: listen 3 1"]:
        assert s.feed(line)[0].endswith(") = 0") or line.endswith("STREAM")
    assert s.feed("u: accept 3") == ["[u] accept(3, NULL, NULL <unfinished ...>"]  # not reading its pipe
    worker = s.pids["u"]
    with open(f"/proc/{worker}/status") as f:
        assert re.search(r"^Uid:\s+65534\s", f.read(), re.M)
    s.proc.kill()
    s.proc.wait(10)
    try:
        wait_until(lambda: gone(worker), 5, "the unprivileged worker to die with sockrepl")
    finally:
        if not gone(worker):
            os.kill(worker, signal.SIGKILL)  # what the bug leaves behind (this test's own worker)
        shutil.rmtree(s.scratch, ignore_errors=True)  # a SIGKILLed sockrepl cannot clean: that is what it leaves


def test_chmod_on_the_scratch_directory_itself_is_refused(live):
    """0500/0 would leave it (and its socket files) behind for a normal user; 0755/0777 would drop its privacy."""
    s = live()
    s.feed("spawn p")
    name = os.path.basename(s.scratch)
    for number, target in enumerate([".", "./", s.scratch, f"../{name}/.", f'"{s.scratch}/"'], 2):
        assert s.feed(f"chmod {target} 0777", 2) == [
            f"line {number}: error: chmod on the scratch directory itself is refused: it stays private (0700), "
            "and sockrepl must be able to remove it when you leave",
            "hint: chmod a socket file in it instead, e.g. chmod srv.sock 0500"]
    assert stat.S_IMODE(os.stat(s.scratch).st_mode) == 0o700
    assert s.feed("stat .") == ['[p] stat(".", {st_mode=S_IFDIR|0700, st_size=4096, ...}) = 0']
    rc, _, _ = s.finish()
    assert rc == 1 and not os.path.exists(s.scratch)


# ---- what a lesson may pin in kernel memory (issue 10, section 6) -----------------------------------


def _lesson(tmp_path, name: str, commands: list[str]) -> str:
    path = tmp_path / f"{name}.md"
    block = "\n".join(commands)
    path.write_text(f"# {name}\n\nA lesson that asks for much.\n\n## Ask\n\nNow.\n\n"
                    f"```sockrepl\n> spawn a\n{block}\n```\n")
    return str(path)


def test_a_lesson_is_bounded_in_what_it_may_pin(tmp_path):
    fds = _lesson(tmp_path, "fds", ["a> socket AF_UNIX SOCK_DGRAM\n= {*}"] * 61 + [
        "a> socket AF_UNIX SOCK_DGRAM\n= -1 EMFILE"])  # fds 3..63, then the 64 per process are used
    buffers = _lesson(tmp_path, "buffers", ["a> socketpair AF_UNIX SOCK_STREAM", "a> setsockopt 3 SO_SNDBUF 262144",
                                            "a> setsockopt 3 SO_SNDBUF 8388608"])
    queued = _lesson(tmp_path, "queued", ["a> socketpair AF_UNIX SOCK_DGRAM"]
                     + ['a> send 3 "x"*200000 MSG_DONTWAIT'] * 11)
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", fds, buffers, queued],
                         capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    assert run.returncode == 1 and run.stderr == ""
    assert re.fullmatch(r"PASS \S+/fds\.md\s+1 steps .*", lines[0]), lines
    assert lines[1:] == [
        f"FAIL {buffers}  step 1/1  " + lines[1].split("  ")[-1],
        f"     {buffers}:13: a> setsockopt 3 SO_SNDBUF 8388608",
        "       sockrepl refused it: a lesson may set SO_SNDBUF up to 262144 bytes, not 8388608",
        f"FAIL {queued}   step 1/1  " + lines[4].split("  ")[-1],
        f"     {queued}:22: a> send 3 \"x\"*200000 MSG_DONTWAIT",
        "       sockrepl refused it: a lesson may send 2097152 bytes in all; it has sent 2000000, "
        "and this call would add 200000"]


# A signal at a chosen instant of `lesson --check`, in a child (no sleeps: a tracer sends it there).
_SIGNAL_AT = r'''
import gc, os, signal, sys, weakref
from sockrepl import lessons_cli
where = sys.argv[2]

class Marker:
    pass

def send():
    os.kill(os.getpid(), signal.SIGTERM)
    sum(range(1000))  # a few bytecodes: the handler runs here

def tracer(frame, event, arg):
    name = frame.f_code.co_name
    if event == "call" and frame.f_code.co_qualname in ("Session.close", "Processes.close") and where == "close":
        sys.settrace(None)
        send()  # as close() begins, before it blocks the signals
    if event == "call" and name == "_do_spawn" and where == "gc":
        sys.settrace(None)
        marker = Marker()
        weakref.finalize(marker, send)  # its Stop is raised in a finalizer: Python prints it and drops it
        del marker
        gc.collect()
    return None

sys.settrace(tracer)
sys.exit(lessons_cli.check([sys.argv[1]]))
'''

_TINY_LESSON = """# Tiny

## One step

```sockrepl
> spawn a b
| spawned a (pid {pid}), b (pid {pid}); current process: a
a> socket(AF_UNIX, SOCK_STREAM, 0)
= 3
a> bind(3, "a.sock")
= 0
```
"""


@pytest.mark.parametrize("where", ["close", "gc"])
def test_a_signal_at_any_instant_of_lesson_check_ends_it_cleanly(tmp_path, where):
    """close: Stop as a session's close() begins (before its mask) skipped the cleanup: the scratch dir stayed.
    gc: a Stop raised in a finalizer is dropped by Python; the check ran on and said PASS, status 0."""
    lesson = tmp_path / "tiny.md"
    lesson.write_text(_TINY_LESSON)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = subprocess.run([sys.executable, "-c", _SIGNAL_AT, str(lesson), where], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 128 + signal.SIGTERM, (run.stdout, run.stderr)
    assert run.stdout.splitlines()[-1] == "STOP lesson --check: SIGTERM; processes and files cleaned up"
    assert run.stderr == ""  # not Python's "Exception ignored in ..." with a traceback
    assert os.listdir(scratch) == []
