"""`sockrepl run -` end to end: transcripts, exit codes, cleanup, signals."""

import io
import os
import signal
import subprocess
import sys
import tracemalloc

from conftest import FIRST_LINE, gone, normalize, pids_of, run_sockrepl, scratch_of, wait_until

from sockrepl import batch
from sockrepl.session import Recording

ISSUE_SAMPLE = """\
spawn server client
server: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: listen 3 1
server: accept 3
client: socket AF_UNIX SOCK_STREAM
client: connect 3 srv.sock
"""


def test_issue_sample_transcript_and_cleanup():
    result = run_sockrepl(ISSUE_SAMPLE)
    assert result.returncode == 0
    assert normalize(result.stdout.decode()) == FIRST_LINE + """
spawned server (pid N), client (pid N); current process: server
[server] socket(AF_UNIX, SOCK_STREAM, 0) = 3
[server] bind(3, {sa_family=AF_UNIX, sun_path="srv.sock"}, 10) = 0
[server] listen(3, 1) = 0
[server] accept(3, NULL, NULL <unfinished ...>
[client] socket(AF_UNIX, SOCK_STREAM, 0) = 3
[client] connect(3, {sa_family=AF_UNIX, sun_path="srv.sock"}, 10) = 0
[server] <... accept resumed>) = 4
"""
    assert not os.path.exists(scratch_of(result.stderr))
    assert all(gone(pid) for pid in pids_of(result.stdout))
    assert b"Traceback" not in result.stderr


def test_same_transcript_run_after_run():
    first = normalize(run_sockrepl(ISSUE_SAMPLE).stdout.decode())
    for _ in range(3):
        assert normalize(run_sockrepl(ISSUE_SAMPLE).stdout.decode()) == first


SEED_ECHO = """\
# the seed's stream echo server and client, one client after another
spawn server client1 client2
server: socket AF_UNIX SOCK_STREAM
server: bind 3 ux_socket
server: listen 3 100
server: accept 3
client1: socket AF_UNIX SOCK_STREAM
client1: connect 3 ux_socket
server: read 4
client1: write 3 "hello\\n"
client1: close 3
server: read 4
server: close 4
server: accept 3
client2: socket(AF_UNIX, SOCK_STREAM, 0)
client2: connect(3, "ux_socket")
client2: write(3, "second client\\n", 14)
client2: close(3)
server: read(4, buf, 1024)
server: read(4, buf, 1024)
server: close(4)
"""


def test_seed_echo_exchange():
    result = run_sockrepl(SEED_ECHO)
    assert result.returncode == 0, result.stdout
    assert normalize(result.stdout.decode()) == FIRST_LINE + """
spawned server (pid N), client1 (pid N), client2 (pid N); current process: server
[server] socket(AF_UNIX, SOCK_STREAM, 0) = 3
[server] bind(3, {sa_family=AF_UNIX, sun_path="ux_socket"}, 11) = 0
[server] listen(3, 100) = 0
[server] accept(3, NULL, NULL <unfinished ...>
[client1] socket(AF_UNIX, SOCK_STREAM, 0) = 3
[client1] connect(3, {sa_family=AF_UNIX, sun_path="ux_socket"}, 11) = 0
[server] <... accept resumed>) = 4
[server] read(4,  <unfinished ...>
[client1] write(3, "hello\\n", 6) = 6
[server] <... read resumed>"hello\\n", 1024) = 6
[client1] close(3) = 0
[server] read(4, "", 1024) = 0
    ↳ 0 bytes = end of file: the other side hung up (or shut down its writing side)
[server] close(4) = 0
[server] accept(3, NULL, NULL <unfinished ...>
[client2] socket(AF_UNIX, SOCK_STREAM, 0) = 3
[client2] connect(3, {sa_family=AF_UNIX, sun_path="ux_socket"}, 11) = 0
[server] <... accept resumed>) = 4
[client2] write(3, "second client\\n", 14) = 14
[client2] close(3) = 0
[server] read(4, "second client\\n", 1024) = 14
[server] read(4, "", 1024) = 0
    ↳ 0 bytes = end of file: the other side hung up (or shut down its writing side)
[server] close(4) = 0
"""


SEED_UPPERCASE = """\
spawn server client
server: socket AF_UNIX SOCK_DGRAM
server: bind 3 uc_srv_socket
server: recvfrom 3 10
client: socket AF_UNIX SOCK_DGRAM
client: bind 3 uc_cli_socket
client: sendto 3 "hello" uc_srv_socket
server: sendto 3 "HELLO" uc_cli_socket
client: recvfrom(3, buf, 10, 0, NULL, NULL)
client: sendto 3 "long message" uc_srv_socket
server: recvfrom 3 10
server: sendto 3 "LONG MESSA" uc_cli_socket
client: recvfrom(3, buf, 10, 0, NULL, NULL)
"""


def test_seed_uppercase_exchange_truncates_at_msg_len():
    result = run_sockrepl(SEED_UPPERCASE)
    assert result.returncode == 0
    assert normalize(result.stdout.decode()) == FIRST_LINE + """
spawned server (pid N), client (pid N); current process: server
[server] socket(AF_UNIX, SOCK_DGRAM, 0) = 3
[server] bind(3, {sa_family=AF_UNIX, sun_path="uc_srv_socket"}, 15) = 0
[server] recvfrom(3,  <unfinished ...>
[client] socket(AF_UNIX, SOCK_DGRAM, 0) = 3
[client] bind(3, {sa_family=AF_UNIX, sun_path="uc_cli_socket"}, 15) = 0
[client] sendto(3, "hello", 5, 0, {sa_family=AF_UNIX, sun_path="uc_srv_socket"}, 15) = 5
[server] <... recvfrom resumed>"hello", 10, 0, {sa_family=AF_UNIX, sun_path="uc_cli_socket"}, [110 => 16]) = 5
[server] sendto(3, "HELLO", 5, 0, {sa_family=AF_UNIX, sun_path="uc_cli_socket"}, 15) = 5
[client] recvfrom(3, "HELLO", 10, 0, NULL, NULL) = 5
[client] sendto(3, "long message", 12, 0, {sa_family=AF_UNIX, sun_path="uc_srv_socket"}, 15) = 12
[server] recvfrom(3, "long messa", 10, 0, {sa_family=AF_UNIX, sun_path="uc_cli_socket"}, [110 => 16]) = 10
    ↳ truncated: the datagram had 12 bytes, the buffer 10; the other 2 are lost
[server] sendto(3, "LONG MESSA", 10, 0, {sa_family=AF_UNIX, sun_path="uc_cli_socket"}, 15) = 10
[client] recvfrom(3, "LONG MESSA", 10, 0, NULL, NULL) = 10
"""


def test_malformed_lines_exit_2_and_the_script_goes_on():
    result = run_sockrepl("spawn a\nbnd 3 x\nsocket AF_UNIX SOCK_STREAM\nclose 1\nclose 3\n")
    assert result.returncode == 2
    assert b"Traceback" not in result.stdout + result.stderr
    assert normalize(result.stdout.decode()) == FIRST_LINE + """
spawned a (pid N); current process: a
line 2: error: unknown command 'bnd'
hint: did you mean 'bind'? (help lists the commands)
[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3
line 4: error: close: fd 1 is the process's stdout, which sockrepl uses to talk to it
usage: close FD
hint: sockets start at fd 3; `state` lists each process's fds
[a] close(3) = 0
"""


def test_a_refused_command_exits_1_not_2_and_never_mentions_ctrl_c():
    result = run_sockrepl("spawn s\nsocket AF_UNIX SOCK_STREAM\nbind 3 s.sock\nlisten 3 1\naccept 3\n"
                          "getsockname 3\n")
    assert result.returncode == 1
    refusal = result.stdout.decode().split("line 6: ")[1].splitlines()
    assert refusal[:2] == ["error: s is blocked in accept(3): it cannot run another call until that one returns",
                       "hint: wait s waits for it, interrupt s ends it with EINTR"]
    assert run_sockrepl("spawn s\nbnd\nsocket AF_UNIX SOCK_STREAM\naccept 3\naccept 3\n").returncode == 2


def test_syscall_errors_are_results_not_failures():
    result = run_sockrepl("spawn a\nsocket AF_UNIX SOCK_STREAM\nconnect 3 nowhere.sock\n")
    assert result.returncode == 0
    assert "connect(3, {sa_family=AF_UNIX, sun_path=\"nowhere.sock\"}, 14) = -1 ENOENT (No such file or directory)" \
        in result.stdout.decode()


def test_blocked_call_at_end_of_input_is_ended_by_the_exit():
    result = run_sockrepl("spawn s\nsocket AF_UNIX SOCK_STREAM\nbind 3 s.sock\nlisten 3 1\naccept 3\n")
    out = result.stdout.decode()
    assert out.endswith("[s] accept(3, NULL, NULL <unfinished ...>\n[s] <... accept resumed> <unfinished ...>) = ?\n"
                        "[s] +++ killed by SIGKILL +++ (sockrepl is leaving)\n")
    assert all(gone(pid) for pid in pids_of(result.stdout))
    assert not os.path.exists(scratch_of(result.stderr))


def test_socket_file_outside_the_scratch_dir_is_removed(tmp_path):
    path = tmp_path / "abs.sock"
    result = run_sockrepl(f"spawn s\nsocket AF_UNIX SOCK_STREAM\nbind 3 {path}\nls\n")
    assert f"bind(3, {{sa_family=AF_UNIX, sun_path=\"{path}\"}}" in result.stdout.decode()
    assert not path.exists()


def test_cleanup_never_removes_a_file_it_did_not_create(tmp_path):
    precious = tmp_path / "precious.sock"
    precious.write_text("not ours")
    result = run_sockrepl(f"spawn s\nsocket AF_UNIX SOCK_STREAM\nbind 3 {precious}\n")
    assert "EADDRINUSE" in result.stdout.decode()
    assert precious.read_text() == "not ours"


def interactive(*args):
    """sockrepl run - with a pipe we can feed line by line, as a script that arrives slowly; past its p1 line."""
    proc = subprocess.Popen([sys.executable, "-m", "sockrepl", "run", "-", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    assert normalize(first.decode()) == FIRST_LINE + "\n"
    proc.p1 = pids_of(first)[0]
    return proc


def feed(proc, line: str) -> str:
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()
    return proc.stdout.readline().decode()


def test_sigterm_to_sockrepl_cleans_everything():
    proc = interactive()
    spawned = feed(proc, "spawn s")
    pid = pids_of(spawned.encode())[0]
    feed(proc, "socket AF_UNIX SOCK_STREAM")
    feed(proc, "bind 3 s.sock")
    scratch = scratch_of(proc.stderr.readline())
    assert os.path.exists(os.path.join(scratch, "s.sock"))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert gone(pid) and gone(proc.p1)
    assert not os.path.exists(scratch)
    assert b"Traceback" not in proc.stderr.read()


def test_worker_killed_from_outside_is_reported_and_the_session_goes_on():
    proc = interactive()
    pid_a, pid_b = pids_of(feed(proc, "spawn a b").encode())
    os.kill(pid_b, signal.SIGKILL)
    wait_until(lambda: gone(pid_b), what="b to die")
    assert feed(proc, "a: socket AF_UNIX SOCK_DGRAM") == "[b] +++ killed by SIGKILL +++\n"
    assert proc.stdout.readline() == b"[a] socket(AF_UNIX, SOCK_DGRAM, 0) = 3\n"
    assert feed(proc, "b: socket AF_UNIX SOCK_DGRAM") == "line 3: error: b is gone (killed by SIGKILL)\n"
    assert proc.stdout.readline() == b"hint: spawn b starts a new one\n"
    proc.stdin.close()
    assert proc.wait(10) == 1  # a command for a dead process is refused, not malformed
    assert gone(pid_a) and gone(proc.p1)


def test_broken_stdout_exits_quietly():
    script = "spawn s\n" + "socket AF_UNIX SOCK_DGRAM\n" * 50
    result = subprocess.run(f"{sys.executable} -m sockrepl run - | head -1", shell=True, input=script.encode(),
                            capture_output=True, timeout=60)
    assert result.stdout.startswith(b"spawned p1 (pid ")
    assert b"Traceback" not in result.stderr and b"Error" not in result.stderr


def test_version_and_help():
    version = subprocess.run([sys.executable, "-m", "sockrepl", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("sockrepl ")
    usage = subprocess.run([sys.executable, "-m", "sockrepl", "--help"], capture_output=True, text=True)
    assert "sockrepl run script.txt" in usage.stdout and usage.returncode == 0


def test_reading_a_script_ahead_keeps_only_the_names_it_can_ask_for():
    """A script of 10 000 `why` lines held 5 MiB of parsed commands before its first line ran (a million: 500)."""
    source = io.BytesIO(b"why p1 fd 3\n" * 10_000)
    tracemalloc.start()
    try:
        recording = batch._recording(source, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert recording == Recording(ties=True, states=False) and source.tell() == 0
    assert peak < 1 << 20, f"{peak} bytes to read the script ahead"
