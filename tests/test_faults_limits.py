"""Resource limits: fds, processes, buffers, sun_path, numbers, what a lesson may pin. Exact transcripts.

Each limit is met for real (ulimit, RLIMIT_NPROC, the kernel's own maxima): a clear result or refusal,
and the session goes on.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import (
    FIRST_LINE,
    children_of,
    gone,
    normalize,
    only_scratch_line,
    python_errors,
    run_sockrepl,
    scratch_of,
    spawned_pids,
    wait_until,
)

from sockrepl.commands import MAX_PROCESSES

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


# ---- numbers (issue 10, section 4) -------------------------------------------------------------------

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


# ---- processes refused by the system (ulimit -u) -----------------------------------------------------


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


def test_a_lesson_may_wait_sixty_seconds_in_all(tmp_path):
    """A lesson from anyone cannot hold --check (or a class) for long: `wait` asks for seconds, counted."""
    waits = _lesson(tmp_path, "waits", ["a> socket AF_UNIX SOCK_STREAM", "a> bind 3 w.sock", "a> listen 3 1",
                                        "a> accept 3\n<unfinished ...>", "a> wait a 0.1", "a> wait a 60"])
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", waits],
                         capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    assert (run.returncode, run.stderr) == (1, "")
    assert lines == [f"FAIL {waits}  step 1/1  " + lines[0].split("  ")[-1],
                     f"     {waits}:17: a> wait a 60",
                     "       sockrepl refused it: a lesson may wait 60 s in all; it has asked for 0.1, "
                     "and this wait would add 60"]
